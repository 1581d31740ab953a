"""rolecast: decide which LLM plays which role in a tool-using agent."""

__version__ = "0.1.0"
