"""The IAM simulator (``access/simulate.cjs``, @cloud-copilot/iam-simulate) as one node process fed
while the requests are still being built.

Each request is written to the process as soon as it exists, one JSON line each, so the simulator
decides the first cases while Python renders the next ones (the two work on two cores). Every
policy document crosses the pipe once, on the line before the first request that uses it; the
requests name it by reference. A request asked twice (a designed case that a generated one
repeats) is simulated once.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from .access_policies import AccessError

# The driver ships in this package (package data), with the package.json and npm lock of the simulator it runs.
DRIVER = Path(__file__).resolve().parent / "access" / "simulate.cjs"


class Simulator:
    """``submit`` each request (a dict for iam-simulate, policies inline), then ``answers()`` in order."""

    def __init__(self, node_modules: Path, root: Path):
        self.driver = DRIVER
        env = {**os.environ, "NODE_PATH": str(Path(node_modules).resolve())}
        try:
            self.process = subprocess.Popen(
                # A larger young generation: the engine allocates briefly-lived objects by the million.
                ["node", "--max-semi-space-size=32", str(self.driver)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        except FileNotFoundError:
            raise AccessError("node is not on PATH: install Node.js 20 or newer, then run make install") from None
        # PIPE opened all three (typeshed's Popen leaves each one Optional).
        stdin, stdout, stderr = self.process.stdin, self.process.stdout, self.process.stderr
        if stdin is None or stdout is None or stderr is None:
            raise AccessError("node started without its pipes")
        self._pipes = (stdin, stdout, stderr)
        # Drained as they come, so neither pipe fills while this side is still writing.
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=lambda: self._out.append(stdout.read()), daemon=True),
            threading.Thread(target=lambda: self._err.append(stderr.read()), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self._refs: dict[int, str] = {}
        self._held: list[dict] = []  # alive until the end, so an ``id`` never names another document
        self._first: dict[str, int] = {}
        self._same_as: list[int] = []  # per submitted request: the request simulated for it
        self._broken = False

    def _ref(self, document: dict, new: dict[str, dict]) -> str:
        key = self._refs.get(id(document))
        if key is None:
            key = self._refs[id(document)] = str(len(self._refs))
            self._held.append(document)
            new[key] = document
        return key

    def _pack(self, simulation: dict, new: dict[str, dict]) -> dict:
        def named(policies: list[dict]) -> list[dict]:
            return [{"name": p["name"], "ref": self._ref(p["policy"], new)} for p in policies]

        packed = dict(simulation)
        packed["identityPolicies"] = named(simulation["identityPolicies"])
        if "permissionBoundaryPolicies" in simulation:
            packed["permissionBoundaryPolicies"] = named(simulation["permissionBoundaryPolicies"])
        for key in ("serviceControlPolicies", "resourceControlPolicies"):
            packed[key] = [
                {"orgIdentifier": o["orgIdentifier"], "policies": named(o["policies"])} for o in simulation.get(key, [])
            ]
        if "resourcePolicy" in packed:
            packed["resourcePolicyRef"] = self._ref(packed.pop("resourcePolicy"), new)
        return packed

    def submit(self, simulation: dict) -> int:
        """Queue one request; its answer is ``answers()[n]`` for the ``n`` returned."""
        number = len(self._same_as)
        new: dict[str, dict] = {}
        line = json.dumps(self._pack(simulation, new), separators=(",", ":"))
        original = self._first.setdefault(line, number)
        self._same_as.append(original)
        if original == number and not self._broken:
            request = '{"id":' + str(number) + ',"simulation":' + line + "}\n"
            text = (json.dumps({"policies": new}) + "\n" if new else "") + request
            try:
                self._pipes[0].write(text)
            except BrokenPipeError:  # the process ended early: its error is read in answers()
                self._broken = True
        return number

    def answers(self, meanwhile: Callable[[], object] | None = None):
        """Every submitted request's answer, in order; with ``meanwhile``, ``(answers, meanwhile())``,
        called while the simulator finishes."""
        try:
            self._pipes[0].close()
        except BrokenPipeError:
            self._broken = True
        extra = meanwhile() if meanwhile is not None else None
        for reader in self._readers:
            reader.join()
        self.process.wait()
        if self.process.returncode != 0 or self._broken:
            stderr = "".join(self._err).strip()
            raise AccessError(f"{self.driver} failed (run make install?):\n{stderr}")
        decided = {answer["id"]: answer for answer in json.loads("".join(self._out) or "[]")}
        ordered = [
            decided[original] if original == number else {**decided[original], "id": number}
            for number, original in enumerate(self._same_as)
        ]
        return (ordered, extra) if meanwhile is not None else ordered

    def close(self) -> None:
        """Stop the process if it still runs (an error while the requests were built); close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for reader in self._readers:
            reader.join()
        for stream in self._pipes:
            with contextlib.suppress(OSError):  # a write still buffered for a process that is gone
                stream.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
