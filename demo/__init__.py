"""Demo app: the message types of ACE's demo content (templates under templates/demo/, data in fixtures/demo.json)."""
