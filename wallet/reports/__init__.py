"""Reports for people: the monthly report of each wallet (``monthly``)."""
