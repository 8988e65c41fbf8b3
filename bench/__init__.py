"""`python -m bench` (`make bench`): our configuration against Rasa's stock one, side by side.

Accuracy on the held-out NLU set, serving speed through `POST /api/chat`, and the cost in
training time, start-up time and memory, written to bench/report.md and bench/report.json.
"""
