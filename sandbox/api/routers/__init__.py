"""One router per actor; each endpoint declares its ``Allow`` rule and calls one service."""
