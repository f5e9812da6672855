#!/usr/bin/env python3
"""Writes a synthetic French corpus for build benchmarks.

    bench/corpus.py OUT_DIR [--pages 10000] [--sections 50]

OUT_DIR/content is a content folder for our generator (site.toml, index.md, one guide folder per
section with _index.md and numbered steps) whose TOML front matter Hugo also reads; the pages hold
headings, lists, links, tables and blockquotes. The text is deterministic (seeded), so two runs
give the same corpus.
"""
import argparse
import pathlib
import random

WORDS = (
    "élève lycée carte demande photo dossier numéro région établissement filière charte compte "
    "activation courriel identité duplicata perte vol dégradation valider appliquer espace "
    "bénéficiaire formulaire renseignements adresse naissance commune téléphone enseignant "
    "rentrée semaine document rendre capture écran conserver envoyer recevoir choisir liste"
).split()


def sentence(rng, n=12):
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ".", " !", " ?", " : voilà."])


def page_body(rng, section, number, count):
    parts = [sentence(rng, 20) + " " + sentence(rng, 15), ""]
    for h in range(3):
        parts.append(f"## Partie {h + 1} : {rng.choice(WORDS)} et {rng.choice(WORDS)}")
        parts.append("")
        parts.append(" ".join(sentence(rng) for _ in range(4)))
        parts.append("")
        parts += [f"- **{rng.choice(WORDS)}** : {sentence(rng, 8)}" for _ in range(4)]
        parts.append("")
    if number > 1:
        parts.append(f"Revenez à [l’étape précédente]({number - 1:04d}-page.md) si besoin.")
    if number < count:
        parts.append(f"Passez ensuite à [l’étape suivante]({number + 1:04d}-page.md).")
    parts.append("")
    parts.append("| Quoi | Où | Quand |")
    parts.append("| --- | --- | --- |")
    parts += [f"| {rng.choice(WORDS)} | {rng.choice(WORDS)} | {rng.randint(1, 28)} mars |" for _ in range(4)]
    parts.append("")
    parts.append("> [!NOTE]")
    parts.append("> " + sentence(rng, 18))
    parts.append("")
    parts.append("> " + sentence(rng, 14))
    parts.append("")
    return "\n".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--sections", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(42)
    content = args.out / "content"
    content.mkdir(parents=True, exist_ok=True)
    (content / "site.toml").write_text(
        'school_name = "Banc d’Essai"\nschool_display_name = "Lycée du Banc d’Essai"\n'
        'school_town = "Clermont-Ferrand"\nactivation_email = true\n'
        'region_url = "https://www.auvergnerhonealpes.fr/passregion"\nlanguage = "fr"\n'
        'form_endpoint = "http://127.0.0.1:9000/lambda-url/handler/demande"\n'
    )
    (content / "index.md").write_text('+++\ntitle = "Accueil"\n+++\n\n' + sentence(rng, 30) + "\n")
    per_section = args.pages // args.sections
    for s in range(args.sections):
        section = content / f"section-{s + 1:02d}"
        section.mkdir(exist_ok=True)
        (section / "_index.md").write_text(
            f'+++\ntitle = "Rubrique {s + 1}"\ndescription = "{sentence(rng, 8)}"\n+++\n\n{sentence(rng, 25)}\n'
        )
        for n in range(1, per_section + 1):
            front = f'+++\ntitle = "Étape {n} de la rubrique {s + 1}"\nstep = {n}\n+++\n\n'
            (section / f"{n:04d}-page.md").write_text(front + page_body(rng, s, n, per_section))


if __name__ == "__main__":
    main()
