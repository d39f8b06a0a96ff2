"""Text-messaging consent portal: who may be texted, who said stop, and the proof of both."""
