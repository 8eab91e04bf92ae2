"""One small module per command: parse -> call mlws.api -> render."""
