"""Parses a Prometheus text exposition from stdin with the reference Python parser
(prometheus_client) and prints {family: type} as JSON; exits non-zero if it does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    families[family.name] = family.type
    for sample in family.samples:
        if sample.value != sample.value and not sample.name.endswith("_sum"):
            sys.exit(f"NaN sample {sample.name}")
print(json.dumps(families, sort_keys=True))
