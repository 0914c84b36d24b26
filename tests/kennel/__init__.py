"""Kennel: a second, small versioned Pets API in FastAPI, shaped unlike petstore (as real APIs are),
so that the framework is tested against more than the API it grew up with."""
