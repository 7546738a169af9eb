import numpy as np
import pytest

from core.library.poses.keypoints import Pose, R_WRIST
from core.library.poses.similarity import DEDUP_THRESHOLD, compare, dedupe, distance_matrix, is_duplicate, similarity
from core.library.poses.transforms import mirror, scale, translate
from core.messages import Message


@pytest.fixture
def poses(library):
    return [Pose.from_json(t["keypoints"]) for t in library[::40]]


def test_invariant_to_translation_and_scale(poses):
    for pose in poses:
        moved = translate(scale(pose, 0.6, center=(0.3, 0.2)), 0.12, -0.04)
        m = compare(pose, moved)
        assert m.pck == 1.0 and m.max < 1e-6 and m.mean < 1e-6
        assert similarity(pose, moved) == 1.0
        assert is_duplicate(pose, moved)


def test_different_poses_score_lower(poses):
    a, b = poses[0], poses[5]
    m = compare(a, b)
    assert m.pck < 1.0 and m.max > DEDUP_THRESHOLD and not is_duplicate(a, b)
    assert compare(a, b).pck == pytest.approx(compare(b, a).pck)


def test_one_moved_wrist_is_measured_in_torso_units(library):
    pose = Pose.from_json(library[0]["keypoints"])
    neck, hip = pose.xy()[1], (pose.xy()[8] + pose.xy()[11]) / 2
    torso = np.linalg.norm((neck - hip) * (2 / 3, 1))
    arr = pose.to_array()
    arr[R_WRIST, 1] += 0.3 * torso  # 0.3 torso lengths straight down
    m = compare(pose, Pose.from_array(arr))
    assert m.max == pytest.approx(0.3, abs=0.03)
    assert m.pck == pytest.approx(17 / 18)


def test_missing_joints_lower_pck_and_block_dedup(poses):
    pose = poses[0]
    partial = pose.without([R_WRIST])
    m = compare(pose, partial)
    assert m.common == 17 and m.union == 18 and m.pck == pytest.approx(17 / 18)
    assert not is_duplicate(pose, partial)  # a body joint less is another template
    no_ears = pose.without([16, 17])
    assert is_duplicate(pose, no_ears)  # eye/ear visibility alone is not


def test_upper_body_poses_compare_without_hips(library):
    close = [Pose.from_json(t["keypoints"]) for t in library if t["category"] == "upper-body"][:5]
    for pose in close:
        assert pose["right_hip"] is None
        assert compare(pose, translate(scale(pose, 1.3), 0.05, 0.0)).max < 1e-6


def test_a_mirrored_one_hand_pose_is_another_template(library):
    t = next(t for t in library if t["product_placement"] == "hand-right" and t["view"] == "front")
    pose = Pose.from_json(t["keypoints"])
    assert distance_matrix([pose], [mirror(pose)])[0, 0] > DEDUP_THRESHOLD
    assert compare(mirror(pose), mirror(pose)).pck == 1.0


def test_dedupe_reports_what_it_skipped_and_why(poses):
    extra = translate(poses[1], 0.02, 0.0)
    tiny = Pose.from_points([(0.5, 0.5), (0.5, 0.6)] + [None] * 16)
    report = dedupe([poses[0], extra, tiny, poses[2], poses[2]], existing=[poses[1]])
    assert report.kept == [0, 3]
    reasons = {i: (why, ref) for i, why, ref in report.skipped}
    assert reasons[1][0].code == "poses.duplicate_of_existing" and reasons[1][1] == 0
    assert reasons[1][0].english.startswith("duplicate of existing pose (distance 0.0")
    assert reasons[2][0] == Message("poses.too_few_keypoints", n=2, need=6)
    assert reasons[2][0].english == "only 2 keypoints (need 6)"
    assert reasons[4][0].code == "poses.duplicate_of_candidate" and reasons[4][0].params["candidate"] == 3
    assert reasons[4][0].english.startswith("duplicate of candidate 3 (distance ")


# --- the pre-filtered de-duplication makes the all-pairs matrix's decisions ----------------------------------------

def _all_pairs_dedupe(candidates, existing=(), *, threshold=DEDUP_THRESHOLD, min_joints=6):
    """dedupe as it was before the pre-filter: the whole distance matrices, then the same greedy pass."""
    present = [Pose.from_json(c).present.sum() if not isinstance(c, Pose) else c.present.sum() for c in candidates]
    versus = distance_matrix(candidates, existing) if len(existing) else None
    self_dist = distance_matrix(candidates)
    kept, skipped = [], []
    for i in range(len(candidates)):
        if present[i] < min_joints:
            skipped.append((i, Message("poses.too_few_keypoints", n=int(present[i]), need=min_joints), None))
            continue
        if versus is not None:
            j = int(np.argmin(versus[i]))
            if versus[i, j] < threshold:
                skipped.append((i, Message("poses.duplicate_of_existing", distance=float(versus[i, j])), j))
                continue
        near = [k for k in kept if self_dist[i, k] < threshold]
        if near:
            skipped.append((i, Message("poses.duplicate_of_candidate", candidate=near[0],
                                       distance=float(self_dist[i, near[0]])), near[0]))
            continue
        kept.append(i)
    return kept, skipped


def _all_pairs_dedupe_templates(templates, threshold=DEDUP_THRESHOLD):
    dist = distance_matrix([t["keypoints"] for t in templates], aspect="2:3")
    kept = []
    for i in range(len(templates)):
        if not kept or dist[i, kept].min() >= threshold:
            kept.append(i)
    return [templates[i] for i in kept]


def _same_decisions(candidates, existing=(), **kw):
    report = dedupe(candidates, existing, **kw)
    kept, skipped = _all_pairs_dedupe(candidates, existing, **kw)
    assert report.kept == kept
    # same candidate, same reason (code and parameters, distances to the bit) and the same index
    assert [(i, m.code, m.params, o) for i, m, o in report.skipped] == [(i, m.code, m.params, o) for i, m, o in skipped]
    return report


def _degenerate(pose):
    """Both hips on the neck: a torso of length 0, scale 1e-9, coordinates of ~1e8 torso units."""
    arr = pose.to_array()
    arr[8, :2] = arr[11, :2] = arr[1, :2]
    return Pose.from_array(arr)


@pytest.fixture(scope="module")
def mixed(library):
    """Shipped poses and their variants around the threshold: jittered (distances on both sides of 0.15), moved and
    scaled (distance ~0), mirrored, upper-body, without a wrist / the neck / the hips / the eyes and ears, too few
    joints, exact repeats (ties), degenerate torsos, eyes and ears only."""
    rng = np.random.default_rng(17)
    base = [Pose.from_json(t["keypoints"]) for t in library[::6]]
    upper = [Pose.from_json(t["keypoints"]) for t in library if t["category"] == "upper-body"][:20]
    out = list(base) + upper
    for pose in base[::2] + upper[::2]:
        arr = pose.to_array()
        for sigma in (0.002, 0.01, 0.02, 0.035):
            a = arr.copy()
            a[:, :2] += rng.normal(0, sigma, (18, 2)) * ~np.isnan(a[:, :2])
            out.append(Pose.from_array(a))
        out.append(translate(scale(pose, 0.8), 0.03, -0.02))
        out.append(mirror(pose))
    for pose in base[::5]:
        out += [pose.without([R_WRIST]), pose.without([1]), pose.without([8, 11]), pose.without([14, 15, 16, 17]),
                pose.without([1, 8, 11]), pose, Pose.from_points(pose.xy()[:3].tolist() + [None] * 15)]
    out += [_degenerate(base[0]), _degenerate(base[0]), _degenerate(base[1])]
    face = Pose.from_points([None] * 14 + base[0].xy()[14:].tolist())  # eyes and ears only: no body joint
    out += [face, translate(face, 0.01, 0.0), face.without([16])]
    order = rng.permutation(len(out))  # near-duplicates both before and after their twin
    return [out[i] for i in order]


@pytest.mark.parametrize("threshold", [DEDUP_THRESHOLD, 0.05, 0.4])
def test_dedupe_equals_the_all_pairs_matrix(mixed, threshold):
    report = _same_decisions(mixed, threshold=threshold)
    codes = {m.code for _, m, _ in report.skipped}
    assert codes == {"poses.too_few_keypoints", "poses.duplicate_of_candidate"}  # the set exercises both
    assert 0 < len(report.kept) < len(mixed)


@pytest.mark.parametrize("threshold", [0.0, np.inf])
def test_dedupe_equals_the_all_pairs_matrix_at_the_limits(mixed, threshold):
    _same_decisions(mixed[:200], mixed[200:300], threshold=threshold)


def test_dedupe_on_the_shipped_library_equals_the_all_pairs_matrix(library):
    poses = [t["keypoints"] for t in library]
    report = _same_decisions(poses)
    assert report.kept == list(range(len(library)))  # the shipped library is already de-duplicated
    report = _same_decisions(poses[::2], poses[1::2])  # half of it against the other half
    assert len(report.kept) == len(poses[::2])


def test_import_against_the_whole_library_equals_the_all_pairs_matrix(library, mixed):
    """The importer's call: a few candidates against every template in the library."""
    existing = [t["keypoints"] for t in library]
    report = _same_decisions(mixed[:120], existing)
    assert "poses.duplicate_of_existing" in {m.code for _, m, _ in report.skipped}
    report = _same_decisions(mixed, existing + mixed[::7])
    assert {m.code for _, m, _ in report.skipped} == {"poses.too_few_keypoints", "poses.duplicate_of_existing",
                                                      "poses.duplicate_of_candidate"}


def test_dedupe_ties_pick_the_first_nearest_existing(poses):
    far, pose = poses[3], poses[1]
    report = _same_decisions([pose, poses[4]], [far, pose, pose, translate(pose, 0.1, 0.0)])
    assert report.skipped[0][2] == 1 and report.skipped[0][1].params["distance"] == 0.0
    report = _same_decisions([pose, pose, pose])  # the first kept twin, not the nearest
    assert [o for _, _, o in report.skipped] == [0, 0]


def test_degenerate_torsos_are_compared_like_the_matrix(poses):
    a, b = _degenerate(poses[0]), _degenerate(poses[1])
    report = _same_decisions([a, b, a, poses[0]], [b])
    assert report.kept == [0, 3] and report.skipped[0][2] == 0


def test_close_pairs_are_the_matrix_entries_under_the_threshold(mixed):
    from core.library.poses.similarity import close_pairs

    for others in (None, mixed[::3]):
        d = distance_matrix(mixed, others)
        want = d < DEDUP_THRESHOLD
        if others is None:
            want = np.tril(want, -1)
        i, j, dist = close_pairs(mixed, others)
        got = np.zeros_like(want)
        got[i, j] = True
        assert (got == want).all() and len(i) == want.sum()
        assert np.array_equal(dist, d[i, j])  # the same float values


def test_dedupe_templates_equals_the_all_pairs_matrix(library, mixed):
    from core.library.poses.generator import dedupe_templates

    templates = [{"id": str(k), "keypoints": p.to_json()} for k, p in enumerate(mixed)]
    for threshold in (DEDUP_THRESHOLD, 0.05, 0.4):
        got = [t["id"] for t in dedupe_templates(templates, threshold)]
        assert got == [t["id"] for t in _all_pairs_dedupe_templates(templates, threshold)]
        assert 0 < len(got) < len(templates)
    assert dedupe_templates(library) == library


def test_the_catalogue_dedupes_to_the_same_ids(library, monkeypatch):
    """The generator's whole catalogue before de-duplication: the same templates survive as with the matrix."""
    from core.library.poses import generator

    raw = []
    monkeypatch.setattr(generator, "dedupe_templates", lambda templates: raw.extend(templates) or templates)
    generator.generate()
    monkeypatch.undo()
    assert len(raw) > len(library)  # some are dropped
    ids = [t["id"] for t in generator.dedupe_templates(raw)]
    assert ids == [t["id"] for t in _all_pairs_dedupe_templates(raw)]
    assert ids == [t["id"] for t in library]
