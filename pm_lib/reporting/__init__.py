"""Tables, summaries and charts that runs publish to the Prefect UI and the CLI prints."""
