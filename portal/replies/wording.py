"""The automatic reply texts: STOP, START and HELP answers, in English and Spanish.

These are the only texts a number that may not be texted can receive: each is a direct answer
to what it sent. No marketing in any of them (FCC 24-24: one confirmation, nothing else).
"""

REPLIES = {
    ("opt_out", False): "{org}: You are unsubscribed and will get no more texts from us. "
    "Reply START to resubscribe.",
    ("opt_out", True): "{org}: Se canceló su suscripción y no recibirá más mensajes. "
    "Responda START para volver a suscribirse.",
    ("opt_in", False): "{org}: You are subscribed to texts. Msg & data rates may apply. "
    "Reply HELP for help, STOP to opt out.",
    ("opt_in", True): "{org}: Está suscrito a nuestros mensajes. Pueden aplicarse tarifas de "
    "mensajes y datos. Responda AYUDA para ayuda, STOP para cancelar.",
    # Only to a number that had opted out before: "again" to anyone else would be untrue.
    ("opt_in_again", False): "{org}: You are subscribed to texts again. Msg & data rates may "
    "apply. Reply HELP for help, STOP to opt out.",
    ("opt_in_again", True): "{org}: Está suscrito de nuevo. Pueden aplicarse tarifas de "
    "mensajes y datos. Responda AYUDA para ayuda, STOP para cancelar.",
    ("help", False): "{org}: texts about classes, schedules and your account. Help: {contact}. "
    "Msg & data rates may apply. Reply STOP to opt out.",
    ("help", True): "{org}: mensajes sobre clases, horarios y su cuenta. Ayuda: {contact}. "
    "Pueden aplicarse tarifas. Responda STOP para cancelar.",
}
