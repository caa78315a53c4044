#!/usr/bin/env python3
"""Write sentences.txt: seeded, template-made English sentences whose words
between them use every one of the 40 phoneme classes (the rare ones, such as
ZH, OY and UH, on purpose).

    python3 data/speech-corpus/make_sentences.py
"""
import random
from pathlib import Path

SUBJECTS = ["The boy", "A young girl", "My mother", "Our teacher", "The judge", "His brother", "That old man",
            "The children", "A tall woman", "Your father", "The thin cook", "Her cousin", "The happy pilot",
            "Each worker", "The yellow dog", "The quiet nurse", "A loud singer", "This tired farmer"]
VERBS = ["found", "bought", "watched", "measured", "took", "joined", "pushed", "caught", "enjoyed", "used",
         "shared", "chose", "threw", "heard", "would move", "could see", "saw", "put", "loved", "wanted"]
OBJECTS = ["the beige treasure", "a good book", "the noisy toy", "some cheese", "the round house",
           "a thick rope", "the usual measure", "a wooden chair", "the long ring", "three yellow shoes",
           "the other cup", "a thousand coins", "the bird's nest", "that leather bag", "the vision of gold",
           "a pleasure cruise", "the azure lake", "her voice", "the wet fish", "a huge pot of jam"]
PLACES = ["near the church", "in the garage", "at the zoo", "under the bridge", "by the water",
          "on the boat", "after lunch", "before the storm", "in the morning", "with a smile",
          "through the woods", "during the show", "behind the wall", "at the edge of town"]

rng = random.Random(11785)
sentences = set()
while len(sentences) < 80:
    s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(PLACES)}."
    sentences.add(s)
out = Path(__file__).with_name("sentences.txt")
out.write_text("\n".join(sorted(sentences)) + "\n")
print(f"wrote {len(sentences)} sentences to {out}")
