"""A long-running agent: an invocation starts a job and returns at once; the job runs on in
the background, ``GET /ping`` reports ``HealthyBusy`` while it does (so Berth, like
AgentCore, counts the session as active and does not end it for being idle), and the
client fetches the result by invoking the same session again.

It uses berth_agent (sdk/python), Berth's standard-library port of AgentCore's
``BedrockAgentCoreApp``; vendor it next to this file before deploying (see README.md).

Payloads:

    {"action": "start", "steps": 4, "step_seconds": 0.75}
        -> {"job": "1", "status": "started", "steps": 4}
    {"action": "status"}              (the latest job; or {"action": "status", "job": "1"})
        -> {"job": "1", "status": "running", "done_steps": 2, "steps": 4, "ping": "HealthyBusy"}
        -> {"job": "1", "status": "done", "result": {...}, "ping": "Healthy"}

Jobs live in the agent's memory: Berth runs one sandbox per session, so they belong to the
session that started them.
"""
import asyncio
import itertools

from berth_agent import BedrockAgentCoreApp, HTTPException

app = BedrockAgentCoreApp()

JOBS = {}
_running = set()  # references to the background tasks, so none is garbage-collected mid-run
_ids = itertools.count(1)


@app.async_task
async def run_job(job_id, steps, step_seconds):
    """The background work. While any call of an @app.async_task function runs, /ping
    answers HealthyBusy."""
    job = JOBS[job_id]
    squares = []
    for step in range(1, steps + 1):
        await asyncio.sleep(step_seconds)  # stands in for real work: a crawl, a build, a report
        squares.append(step * step)
        job["done_steps"] = step
    job["result"] = {"steps": steps, "sum_of_squares": sum(squares)}
    job["status"] = "done"


def _job(payload):
    job_id = str(payload.get("job") or (max(JOBS, key=int) if JOBS else ""))
    if job_id not in JOBS:
        which = f"job {job_id!r}" if job_id else "job"
        raise HTTPException(404, f'no {which} in this session; start one with {{"action": "start"}}')
    return job_id, JOBS[job_id]


@app.entrypoint
async def invoke(payload):
    if not isinstance(payload, dict):
        raise HTTPException(400, 'the payload must be a JSON object such as {"action": "start"}')
    action = payload.get("action", "status")
    if action == "start":
        steps = max(1, min(int(payload.get("steps", 4)), 100))
        step_seconds = max(0.0, min(float(payload.get("step_seconds", 1)), 60.0))
        job_id = str(next(_ids))
        JOBS[job_id] = {"status": "running", "done_steps": 0, "steps": steps}
        # Async handlers run on the SDK's worker event loop; the task keeps running there
        # after this invocation has answered.
        task = asyncio.create_task(run_job(job_id, steps, step_seconds))
        _running.add(task)
        task.add_done_callback(_running.discard)
        return {"job": job_id, "status": "started", "steps": steps}
    if action == "status":
        job_id, job = _job(payload)
        return {"job": job_id, **job, "ping": app.get_current_ping_status().value}
    raise HTTPException(400, f"unknown action {action!r}: use start or status")


if __name__ == "__main__":
    app.run()
