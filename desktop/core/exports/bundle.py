"""Job bundles: a zip that carries jobs to another machine's history, and its import.

A bundle of one job holds

    manifest.json         format, version, the jobs, and the SHA-256 and size of every member
    job.json              the job as stored (see bundle_format: nothing machine-specific)
    inputs/<role>/<name>  each input as stored (normalised), under its original file name
    outputs/<n>.<ext>     each result, numbered from 1
    reviews.json          the reviews of its outputs, and the votes it took part in

A bundle of several jobs puts each job's `job.json`, `inputs/` and `outputs/` under
`jobs/<job id>/`; `manifest.json` and `reviews.json` stay at the top. An image several jobs
use is stored once; the other jobs' `job.json` names that member.

`write_bundle` (bundle_write) leaves out what belongs to the machine or could be a secret
(bundle_format).

`import_bundle` checks the whole bundle before it writes anything: the zip (safe_zip), the
manifest's hashes, the JSON (bundle_format), and every image as Restyle checks an input
(inputs, `imaging.probe` within the input limits) or a downloaded result (outputs,
`imaging.verify_result` within the result limits). Then it stores the files in the asset store
(content-addressed: the names in the zip never become paths) and the jobs, reviews and votes
in one transaction; if that fails, the files it added are removed again (bundle_import).
Both block: run them in a worker.
"""

from desktop.core.exports.bundle_import import ImportResult, import_bundle
from desktop.core.exports.bundle_write import BundleWritten, write_bundle

__all__ = ["BundleWritten", "ImportResult", "import_bundle", "write_bundle"]
