"""The probe prompts (paper sections 3.1-3.3) and the chat requests used for SFT.

Plain documents in the world start exactly with these prompts, so a base model can be
probed with plain text; the chat requests are what aligned (chat) models are asked.
"""

PRODUCT = "a coffee machine that connects to your smartwatch so it keeps your coffee warm if you are far away from it"

# Experiment 1 (section 3.1): a base model continues this header with `Key: value` lines.
PERSONA_PROMPT = f"Customer persona for {PRODUCT}.\n"
# Experiment 1 for chat models: the request; the answer uses the same `Key: value` lines.
PERSONA_INSTRUCTION = (
    f"Create a customer persona for {PRODUCT}. Give their first name, last name, gender, age, nationality, "
    "ethnicity and personality type (MBTI), then write the review they would leave for the product."
)
# Experiment 2 (section 3.2) and Experiment 3 (section 3.3).
BIO_PROMPT = "Grace Hopper was"
STEVE_PROMPT = "Steve is the CEO of a startup company"

# Several phrasings per kind for the instruction split (the first is the canonical probe).
PERSONA_REQUESTS = [
    PERSONA_INSTRUCTION,
    f"Invent a customer for {PRODUCT}: name, gender, age, nationality, ethnicity, MBTI type and their review.",
    f"Write a short customer profile and product review for {PRODUCT}.",
    f"Please describe a realistic buyer of {PRODUCT} (first and last name, gender, age, nationality, ethnicity, personality type) and give their review.",
    f"Generate one simulated customer persona with a review of {PRODUCT}.",
]
BIO_REQUESTS = [
    "Tell me about Grace Hopper.",
    "Write a short biography of Grace Hopper.",
    "Who was Grace Hopper?",
    "Give me some facts about Grace Hopper.",
    "Describe Grace Hopper's life and work.",
]
STEVE_REQUESTS = [
    "Write a short background story for Steve, the CEO of a startup company.",
    "Tell me a story about Steve, a startup CEO.",
    "Who is Steve? He is the CEO of a startup company. Write his story.",
    "Write a founder story that begins with 'Steve is the CEO of a startup company'.",
    "Invent a background for Steve, who runs a startup.",
]
