"""modules.infotext_utils stand-in: `quote`, as the web UI quotes infotext values with , : or quotes."""

import json


def quote(text):
    text = str(text)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)
