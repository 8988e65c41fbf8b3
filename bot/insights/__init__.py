"""Staff insights: what the assistant's conversations and the leads add up to, for a period.

`figures` computes them by SQL over Rasa's `events` and our lead tables (`queries`), in the
clinic's time zone (`period`, `local_time`); `charts` draws them as SVG for the staff page,
`export` writes them as CSV, and `weekly` mails a summary of the past week to the
administrators through the outbox. Only counts leave this package: never what anyone typed.
"""
