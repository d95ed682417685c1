"""The chatbot platform (Flow XO's public API): conversations and their messages pulled into
the insights app, so ``/api/insights`` and its top lists answer from synced data."""
