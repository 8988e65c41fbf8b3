"""Leads: the inquiries visitors agreed to be contacted about, from saving to deletion.

`store` saves a new one with its notices; `queries` finds them; `workflow` moves one through
its statuses and adds notes; `deletion` removes one on the person's request.
"""
