"""crash_model — what the store must contain after a crash, and the check.

State of one point id (of one collection): a list of allowed states
("candidates"). An acknowledged write makes it exactly one state; a write
whose outcome is unknown adds its state to the list (it was applied or it
was not). `verify` reads the whole store over the bus, compares, and then
resolves every unknown write to what it observed (checking that an unknown
batch was applied entirely or not at all), so later cycles check those ids
strictly again.

Ownership: every id belongs to one writer; Model.owned_ids lists a writer's
ids whose state is known exactly (unresolved ids are never picked, so a
writer never stacks a second unknown write on an id). All methods take the
model lock; verify runs while the writers are paused.
"""

import threading
from urllib.parse import quote as _quote

MSG_COLL_INFO, MSG_POINTS_LIST, MSG_SEARCH = 12, 23, 30


def quote(s):
    return _quote(s, safe="")


class Present:
    __slots__ = ("vec", "meta")

    def __init__(self, vec, meta):
        self.vec, self.meta = bytes(vec), meta

    def __eq__(self, o):
        return isinstance(o, Present) and o.vec == self.vec and o.meta == self.meta

    def __repr__(self):
        return "Present(%s..., %r)" % (self.vec[:8].hex(), self.meta)


class _Absent:
    def __eq__(self, o):
        return isinstance(o, _Absent)

    def __repr__(self):
        return "Absent"


Absent = _Absent()


class Model:
    def __init__(self, stats, expect_durability=None):
        self.lock = threading.Lock()
        self.stats = stats
        self.expect_durability = expect_durability
        self.cands = {}      # (coll, id) -> [state, ...]
        self.owned = {}      # (writer, coll) -> {"present": set(ids), "absent": set(ids)}
        self.unknown = []    # [(coll, {id: (prev_cands, new_state)}, writer)]
        self.owner = {}      # (coll, id) -> writer
        self.last_checked = 0

    def _sets(self, writer, coll):
        return self.owned.setdefault((writer, coll), {"present": set(), "absent": set()})

    def owned_ids(self, writer, coll, present):
        with self.lock:
            return list(self._sets(writer, coll)["present" if present else "absent"])

    def begin(self, coll, ids):
        return (coll, tuple(ids))

    def _set_known(self, writer, coll, i, state):
        self.cands[(coll, i)] = [state]
        self.owner[(coll, i)] = writer
        if writer is None:
            return
        s = self._sets(writer, coll)
        s["present"].discard(i)
        s["absent"].discard(i)
        s["present" if isinstance(state, Present) else "absent"].add(i)

    def finish(self, token, kind, ids, points, outcome, w):
        coll = token[0]
        what, detail = outcome
        with self.lock:
            if what == "ack":
                self.stats["acked_requests"] += 1
                n = detail.get("n")
                if kind == "upsert":
                    self.stats["acked_upserts"] += len(ids)
                    if n is not None and n != len(ids):
                        w.errors.append("%s: upsert of %d points acknowledged n=%r" % (coll, len(ids), n))
                    for i in ids:
                        self._set_known(w.wname, coll, i, points[i])
                else:
                    present = [i for i in ids if self.cands.get((coll, i), [Absent]) != [Absent]]
                    self.stats["acked_deletes"] += len(present)
                    if detail.get("absent") and present:
                        w.errors.append("%s/%s: acknowledged point missing (DELETE answered 404)"
                                        % (coll, present[0]))
                    elif n is not None and not detail.get("absent") and n != len(present):
                        w.errors.append("%s: delete of %r reported %r deleted, %d were live"
                                        % (coll, ids, n, len(present)))
                    for i in ids:
                        self._set_known(w.wname, coll, i, Absent)
                dur = detail.get("durability")
                if self.expect_durability and kind == "upsert" and dur != self.expect_durability:
                    w.errors.append("%s: write acknowledged with durability %r, store runs with --fsync %s"
                                    % (coll, dur, self.expect_durability))
            elif what == "unknown":
                self.stats["unknown_requests"] += 1
                entry = {}
                for i in ids:
                    prev = list(self.cands.get((coll, i), [Absent]))
                    new = points[i] if kind == "upsert" else Absent
                    entry[i] = (prev, new)
                    self.cands[(coll, i)] = prev + ([new] if new not in prev else [])
                    s = self._sets(w.wname, coll)
                    s["present"].discard(i)
                    s["absent"].discard(i)
                self.unknown.append((coll, entry, w.wname))
            else:
                self.stats["rejected"] += 1
                w.errors.append("%s: %s of %d ids rejected: %s" % (coll, kind, len(ids), detail))

    # -- the check ---------------------------------------------------------------
    def resolve(self, observed, problems):
        """observed: {(coll, id): state}. Resolves unknown writes; checks atomicity."""
        for coll, entry, writer in self.unknown:
            applied, not_applied = [], []
            for i, (prev, new) in entry.items():
                got = observed.get((coll, i), Absent)
                if got == new and got not in prev:
                    applied.append(i)
                elif got in prev and got != new:
                    not_applied.append(i)
                self._set_known(writer, coll, i, got)
            if applied and not_applied:
                problems.append("%s: unknown batch half applied: %r applied, %r not" % (coll, applied[:3],
                                                                                       not_applied[:3]))
            if applied:
                self.stats["unknown_applied"] += 1
            elif not_applied:
                self.stats["unknown_not_applied"] += 1
        self.unknown = []

    def rebase(self, observed):
        """After a failed cycle: accept what the store holds as the new truth,
        so the next cycles test independently (caller holds no lock)."""
        with self.lock:
            self.unknown = []
            for key in list(self.cands):
                self._set_known(self.owner.get(key), key[0], key[1], observed.get(key, Absent))
            for key, st in observed.items():
                if key not in self.cands:
                    self._set_known(None, key[0], key[1], st)


def list_all(svc, coll):
    """Every point of coll: {id: Present}. Raises on a bus error."""
    out = {}
    cursor = None
    while True:
        body = {"collection": coll, "limit": 1000, "with_vector": True}
        if cursor:
            body["cursor"] = cursor
        rep = svc.call(MSG_POINTS_LIST, body, timeout=30.0)
        if rep[3] != 0:
            raise RuntimeError("points_list %s: status %d %r" % (coll, rep[3], rep[4]))
        for p in rep[4].get("points", []):
            if p["id"] in out:
                raise RuntimeError("points_list %s: id %r listed twice" % (coll, p["id"]))
            out[p["id"]] = Present(p.get("vector") or b"", p.get("metadata") or {})
        cursor = rep[4].get("next_cursor")
        if not cursor:
            return out


def verify(svc, model, collections, rng, stats):
    """Compares the running store with the model; returns (problems, observed
    states of every listed point)."""
    problems = []
    observed = {}
    checked = 0
    with model.lock:
        for name, dim, metric, index in collections:
            rep = svc.call(MSG_COLL_INFO, {"name": name})
            if rep[3] != 0:
                lost = sum(1 for (c, _), cands in model.cands.items() if c == name and Absent not in cands)
                problems.append("collection %s: status %d %r after restart (%d acknowledged points lost)"
                                % (name, rep[3], rep[4], lost))
                continue
            info = rep[4]
            got = (info.get("dimension"), info.get("metric"), (info.get("index") or {}).get("type", "flat"))
            if got != (dim, metric, index["type"]):
                problems.append("collection %s: settings %r, want %r" % (name, got, (dim, metric, index["type"])))
            pts = list_all(svc, name)
            if info.get("count") != len(pts):
                problems.append("collection %s: info count %r but %d points listed" % (name, info.get("count"),
                                                                                        len(pts)))
            for i, st in pts.items():
                observed[(name, i)] = st
                if (name, i) not in model.cands:
                    problems.append("%s/%s: present but never written (%r)" % (name, i, st))
            for (c, i), cands in model.cands.items():
                if c != name:
                    continue
                checked += 1
                if len(cands) == 1 and cands[0] is Absent and i not in pts:
                    continue  # the common case, fast
                st = pts.get(i, Absent)
                if st not in cands:
                    if len(cands) == 1 and isinstance(cands[0], Present) and st is Absent:
                        problems.append("%s/%s: acknowledged write LOST (absent after restart)" % (name, i))
                    elif len(cands) == 1 and cands[0] is Absent:
                        problems.append("%s/%s: acknowledged delete UNDONE: %r" % (name, i, st))
                    else:
                        problems.append("%s/%s: state %r, allowed %r" % (name, i, st, cands))
            # an exact search for a stored vector finds it (index and slabs agree after load)
            known = [i for i, st in pts.items() if model.cands.get((name, i)) == [st]]
            if known and metric in ("l2", "cosine"):
                i = rng.choice(known)
                rep = svc.call(MSG_SEARCH, {"collection": name, "vector": pts[i].vec, "k": 1, "exact": True})
                hits = rep[4].get("hits") if rep[3] == 0 else None
                if not hits or hits[0]["id"] != i:
                    problems.append("%s: exact search for the vector of %s returned %r (status %d)"
                                    % (name, i, (hits or [None])[0], rep[3]))
        model.resolve(observed, problems)
    model.last_checked = checked
    stats["verified_points"] += checked
    return problems, observed
