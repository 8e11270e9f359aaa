-- CI/CD: pipelines, jobs, schedules, triggers, runners, agents.
return {
  -- project.pipelines:create{ ref = } posts to /projects/:id/pipeline
  pipeline = {
    path = "pipelines", ops = "LGCD", create_path = "pipeline",
    doc = "`project.pipelines:create{ ref = \"main\" }` posts to `/projects/:id/pipeline`.",
    home = "/projects/{project_id}/pipelines",
    actions = {
      cancel = "POST cancel self",
      retry = "POST retry self",
      test_report = "GET test_report",
      test_report_summary = "GET test_report_summary",
      variables = "GET variables list",
      update_metadata = "PUT metadata self",
    },
    collection = { latest = "GET latest kind=pipeline" },
    subs = {
      jobs = { "job", ops = "L" },
      bridges = { "job", path = "bridges", ops = "L" },
    },
  },

  -- job.artifacts is also a data field of a loaded job: use
  -- job:download_artifacts{ output = } or job:call("artifacts", ...)
  job = {
    path = "jobs", ops = "LG",
    doc = "A loaded job has an `artifacts` field (an array) that shadows the `artifacts` "
      .. "method: use `job:download_artifacts{ output = \"a.zip\" }` or "
      .. "`job:call(\"artifacts\", { output = \"a.zip\" })`.",
    home = "/projects/{pipeline.project_id}/jobs",
    actions = {
      cancel = "POST cancel self",
      retry = "POST retry kind=job",
      play = "POST play self",
      erase = "POST erase self",
      trace = "GET trace raw",
      artifacts = "GET artifacts download",
      download_artifacts = "GET artifacts download",
      artifact_file = "GET artifacts/*artifact_path download",
      keep_artifacts = "POST artifacts/keep self",
      delete_artifacts = "DELETE artifacts",
    },
    collection = {
      artifacts_archive = "GET artifacts/:ref_name/download download",
      artifact_file = "GET artifacts/:ref_name/raw/*artifact_path download",
    },
  },

  pipeline_schedule = {
    path = "pipeline_schedules", ops = "LGCUD",
    actions = {
      play = "POST play",
      take_ownership = "POST take_ownership self",
    },
    subs = {
      pipelines = { "pipeline", ops = "L" },
      variables = "pipeline_schedule_variable",
    },
  },
  -- pipeline_schedules.md: variables are created, edited and deleted (the
  -- schedule itself lists them)
  pipeline_schedule_variable = { path = "variables", id = "key", ops = "CUD" },

  -- pipeline_triggers.md: list, get, create, update, delete (no take_ownership)
  trigger = { path = "triggers", ops = "LGCUD" },

  runner = {
    path = "runners", ops = "LGCUD",
    actions = {
      jobs = "GET jobs list=job",
      -- runners.md "List runner's managers": one array (not among the
      -- page's paginated endpoints)
      managers = "GET managers",
      reset_authentication_token = "POST reset_authentication_token",
    },
  },

  cluster_agent = {
    path = "cluster_agents", ops = "LGCD",
    subs = { tokens = "cluster_agent_token" },
  },
  cluster_agent_token = { path = "tokens", ops = "LGCD" },

  ci_lint = { path = "ci/lint", single = true, ops = "GC" },
}
