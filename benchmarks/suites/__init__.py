"""Whole pytest suites timed as processes: the same 100 create-pet tests with the framework's
plugin and written by hand (pytest-asyncio and one ``httpx.AsyncClient``), the contender the
start-up and per-test KPIs are judged against."""
