import numpy as np

from core.library.poses import generator
from core.library.poses.body import limit_violations, make_body
from core.library.poses.catalog import RECIPES
from core.library.poses.rig import Arm, Spec, build

SOME = tuple(r for r in RECIPES if r.subcategory in ("relaxed", "hand-left", "crossed-legs"))


def test_same_seed_same_templates_other_seed_other_poses():
    a = generator.generate(7, SOME)
    b = generator.generate(7, SOME)
    c = generator.generate(8, SOME)
    assert a == b and len(a) > 20
    assert [t["keypoints"] for t in a] != [t["keypoints"] for t in c]


def test_ids_do_not_depend_on_other_recipes():
    alone = generator.generate(7, SOME[:1])
    together = generator.generate(7, SOME)
    assert alone == [t for t in together if t["category"] == SOME[0].category
                     and t["subcategory"] == SOME[0].subcategory]


def test_every_sample_respects_the_joint_limits():
    for recipe in RECIPES:
        for i in range(3):
            sample = generator.pose_sample(recipe, 1, i)
            if sample is not None:
                assert limit_violations(sample[1].angles) == [], recipe.subcategory


def test_limits_catch_an_impossible_elbow():
    body = make_body(np.random.default_rng(0), "unisex")
    spec = Spec()
    spec.arms["right"] = Arm(elev=10, plane=80, elbow=170)
    assert any("right_elbow" in v for v in limit_violations(build(body, spec).angles))


def test_bones_keep_their_lengths_in_3d():
    body = make_body(np.random.default_rng(1), "female")
    for recipe in RECIPES[::4]:
        _, sk, _ = generator.pose_sample(recipe, 3, 0)
        J = sk.joints
        for side in ("right", "left"):
            # samples use their own body; compare ratios that do not depend on it
            ua = np.linalg.norm(J[f"{side}_elbow"] - J[f"{side}_shoulder"])
            fa = np.linalg.norm(J[f"{side}_wrist"] - J[f"{side}_elbow"])
            th = np.linalg.norm(J[f"{side}_knee"] - J[f"{side}_hip"])
            sh = np.linalg.norm(J[f"{side}_ankle"] - J[f"{side}_knee"])
            assert 0.85 < (ua / fa) / (0.186 / 0.146) < 1.15
            assert 0.85 < (th / sh) / (0.245 / 0.246) < 1.15
    assert body.gender == "female"


def test_cli_writes_the_library(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generator, "RECIPES", SOME[:1])
    out = tmp_path / "lib.json"
    assert generator.main(["--out", str(out), "--seed", "3"]) == 0
    assert "templates to" in capsys.readouterr().out
    from core.library.poses.library import load_library

    templates = load_library(out)
    assert templates == generator.generate(3, SOME[:1]) and templates
