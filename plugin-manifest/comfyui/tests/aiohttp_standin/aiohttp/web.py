import json


class Response:
    def __init__(self, text, status, content_type):
        self.text = text
        self.status = status
        self.content_type = content_type


def json_response(data, status=200):
    return Response(json.dumps(data), status, "application/json")
