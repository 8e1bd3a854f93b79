"""Word lists shared by the built-in corpora and the explainer's hypotheses (no torch here: the first screen uses
them before torch is imported)."""

# (singular, plural) subjects of the agreement corpus: "the cats, which …, were full"
NOUNS = [("cat", "cats"), ("dog", "dogs"), ("bird", "birds"), ("fox", "foxes"), ("child", "children"),
         ("horse", "horses"), ("mouse", "mice"), ("teacher", "teachers")]
