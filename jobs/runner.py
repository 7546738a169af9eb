"""What every runner offers core: the job entry points by what the work is (core never names a job function),
on top of each runner's own submit("module:function", *ids, job_id=...) and job_alive(job_id)."""
from __future__ import annotations


class Runner:
    """The job entry points core asks for, by what the work is; both runners implement submit()."""

    RENDER = "jobs.tasks:render_poses"
    REMOVE_BACKGROUND = "jobs.tasks:remove_background"

    def submit(self, path: str, *args, job_id: str | None = None):  # pragma: no cover - each runner has its own
        raise NotImplementedError

    def report(self) -> dict:
        """For the System page: {"kind", "queued", "workers": [{"name", "state", "lastHeartbeat", "job"}],
        and for rq "redis": {"reachable", "error"} and "failed"}."""
        raise NotImplementedError  # pragma: no cover - each runner has its own

    def queue_render(self, generation_id: int, positions: list[int], *, job_id: str):
        """Render the pending poses at `positions` of a generation (core.generation.render.render_poses)."""
        return self.submit(self.RENDER, generation_id, ",".join(map(str, positions)), job_id=job_id)

    def queue_background_removal(self, product_id: int):
        """Cut out one product photo (core.catalog.products.run_removal)."""
        return self.submit(self.REMOVE_BACKGROUND, product_id)
