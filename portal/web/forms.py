"""Reading and checking what people type: names, email addresses and cell phones."""

from __future__ import annotations

import dataclasses

from portal import phones
from portal.consent.commands import PersonEdit
from portal.i18n import languages
from portal.i18n.catalogs import mark
from portal.validation import name_problem, normalize_email


@dataclasses.dataclass
class PersonForm:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    cell_phone: str = ""
    allow_texting: bool = False
    # The switch as the form showed it, so that only a moved switch counts as a choice.
    allow_texting_was: bool | None = None
    # The person's language ("en", "es"), None for the browser's; not consent, saved beside it.
    language: str | None = None
    # Whether the form had the Language select at all (a form without it changes no language).
    language_given: bool = False
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    # Cleaned values, set when the form is valid.
    clean_email: str | None = None
    clean_phone: str | None = None

    @classmethod
    def from_form(cls, form, *, email_required: bool) -> PersonForm:
        data = cls(
            first_name=str(form.get("first_name", "")).strip(),
            last_name=str(form.get("last_name", "")).strip(),
            email=str(form.get("email", "")).strip(),
            cell_phone=str(form.get("cell_phone", "")).strip(),
            allow_texting=form.get("allow_texting") == "on",
            allow_texting_was={"on": True, "off": False}.get(str(form.get("allow_texting_was"))),
        )
        data.language_given = "language" in form
        language = str(form.get("language", "")).strip()
        if language:
            try:
                data.language = languages.checked(language)
            except languages.UnknownLanguage:
                data.errors["language"] = mark("Choose a language from the list.")
        for field in ("first_name", "last_name"):
            problem = name_problem(getattr(data, field))
            if problem:
                data.errors[field] = problem
        if data.email:
            try:
                data.clean_email = normalize_email(data.email)
            except ValueError as exc:
                data.errors["email"] = str(exc)
        elif email_required:
            data.errors["email"] = mark("Enter an email address: it is how you log in.")
        if data.cell_phone:
            try:
                data.clean_phone = phones.normalize(data.cell_phone)
            except phones.InvalidPhone as exc:
                data.errors["cell_phone"] = str(exc)
        return data

    @property
    def valid(self) -> bool:
        return not self.errors

    def edit(self, *, shown_on: bool) -> PersonEdit:
        """What a valid form asks for, in the terms of the update_person command. `shown_on`
        is the switch as the current status would show it, for a form that did not say."""
        was = shown_on if self.allow_texting_was is None else self.allow_texting_was
        return PersonEdit(
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.clean_email,
            cell_phone=self.clean_phone,
            allow_texting=self.allow_texting,
            allow_texting_was=was,
        )
