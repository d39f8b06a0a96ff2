"""Segment counts: GSM-7 160/153, Unicode 70/67."""

from __future__ import annotations

from portal.messaging.segments import count


def test_an_empty_text_is_no_segment():
    assert count("").segments == 0


def test_gsm_text_fits_160_in_one_segment_and_153_per_part_beyond():
    assert (count("a" * 160).characters, count("a" * 160).segments) == (160, 1)
    assert count("a" * 161).segments == 2
    assert count("a" * 306).segments == 2
    assert count("a" * 307).segments == 3


def test_extended_gsm_characters_count_twice():
    assert count("€" * 80).characters == 160 and count("€" * 80).segments == 1
    assert count("€" * 81).segments == 2


def test_a_character_outside_gsm_makes_the_text_unicode_70_then_67():
    assert count("ő" * 70).encoding == "Unicode" and count("ő" * 70).segments == 1
    assert count("ő" * 71).segments == 2
    assert count("ő" * 134).segments == 2
    assert count("ő" * 135).segments == 3


def test_an_emoji_takes_two_unicode_units():
    assert count("🙂").characters == 2
    assert count("🙂" * 35).segments == 1 and count("🙂" * 36).segments == 2
