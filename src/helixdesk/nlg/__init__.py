"""Natural-language generation: the pack's bilingual templates, reply styles and empathy openings."""
