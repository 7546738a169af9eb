"""Generation, one batch from plan to photos: state (seeds, ownership, the recount, refunds), planning (try one,
batch, retry, re-render: one path to rows, a charge and queued work), work (who renders which pose: claim,
heartbeat, reaper), render (what a job runs), compositing (where the product goes), quality (the checks of each
image), batches (status, cancel, results, ratings), export (ZIP and manifest) and projects.

Arrows inside: planning -> batches, state, work; render -> state, work, compositing, quality; batches -> state;
export -> batches. state and work import nothing of this package."""
