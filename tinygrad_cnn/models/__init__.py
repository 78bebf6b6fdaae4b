"""`tg.models`: the networks of the source papers."""
