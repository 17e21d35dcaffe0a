"""Stand-in for aiohttp (used only when it is not installed): the pack needs web.json_response."""
