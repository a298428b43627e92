"""Smart routing: which queue, how urgent (with an explanation), and which person to offer it to."""
