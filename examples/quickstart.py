import synthkit as sk

teacher = sk.get_teacher("procedural", error_rate=0.1)  # a teacher that needs no model
pipeline = (
    sk.Pipeline(teacher.problems(400, seed=7), seed=7)
    .generate(teacher, template="cot")  # step-by-step worked solutions
    .verify("final-answer")             # keep only right answers
    .filter("exact-dedup")              # drop repeats
)
print(pipeline.run(sink="out/quickstart.jsonl", rejects="out/rejects.jsonl"))
