"""Rules: the policy and routing plug-ins the engine asks (opt-outs, suppressions, policy rules, channel routes)
and the message-type defaults preparer."""
