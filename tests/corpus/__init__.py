"""The planted-bug corpus. A claim named ``ok-*`` is correct; one named ``bug-<verdict>-*`` must get
exactly that verdict (:data:`LABEL` reads it; test_corpus.py and soak.py both use it)."""

from __future__ import annotations

import re

from gradcheck.verdict.model import Label

LABEL = re.compile(rf"^bug-({'|'.join(re.escape(label) for label in Label if label != Label.PASS)})(-|$)")
