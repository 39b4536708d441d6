class DomainError(Exception):
    """A rule said no. `status` is the HTTP answer the API and the pages give."""

    def __init__(self, code: str, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.status = status
        self.field = field
