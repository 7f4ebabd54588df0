-- Argo CD health check for the modelarts-operator kinds (group modelarts.huaweicloud.com):
-- Workspace, TrainingJob, Model, Service and Notebook share this script; a Service or a
-- Notebook can be Suspended.
--   Healthy      condition Ready=True for the current generation
--   Suspended    a stopped Service (spec.stopped: true); a stopped Notebook (spec.stopped: true,
--                or its lease stopped it: phase Stopped, observed at the current generation)
--   Degraded     condition Failed=True; phase Failed; Ready=False with reason Failed or
--                Degraded (a v2 Service that is CONCERNING: some instances abnormal);
--                Synced=False with a terminal reason (the ModelArts error code of a refused
--                request: invalid parameter, quota, permission); the message is the condition's
--   Progressing  anything else: no status yet, an older generation observed, waiting for a
--                dependency, queued, running, deploying, or a retried (transient) error
-- Written for Lua 5.1 (gopher-lua, Argo CD's interpreter) and for Argo CD's sandbox: scripts
-- from argocd-cm run with only the base, table, package and a safe os library, so this script
-- uses no string library (no string.sub, string.find, s:sub); prefixes are tested by comparing
-- strings, which the base language does byte by byte.
-- The Helm chart ships this file as files/argocd/health.lua, copied by `make crds`: edit this one.
local hs = {}

-- Synced=False reasons the operator retries by itself: the object is still converging.
local transientReasons = {
  Throttled = true,
  ServerError = true,
  Timeout = true,
  Ambiguous = true,
  TransportError = true,
  Retrying = true,
  Unknown = true,
  Pending = true,
  Reconciling = true,
  Paused = true,
}

-- Whether text starts with prefix. The strings that start with prefix are exactly those from
-- prefix (inclusive) up to prefix .. "\255" (exclusive) in byte order; "\255" never occurs in
-- UTF-8 text, so no string library is needed.
local function hasPrefix(text, prefix)
  return text >= prefix and text < prefix .. "\255"
end

local function isTransient(reason)
  if reason == nil or reason == "" then
    return true
  end
  if transientReasons[reason] then
    return true
  end
  -- WaitingForWorkspace, WaitingForModel, ...: a dependency is not ready yet.
  return hasPrefix(reason, "WaitingFor")
end

local function findCondition(status, ctype)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if condition.type == ctype then
      return condition
    end
  end
  return nil
end

local function describe(condition, fallback)
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return fallback
end

-- A terminal condition's message led by its reason when that names the cause (the ModelArts
-- error code of a refused request: "ModelArts.0107: ..."), unless the message already starts
-- with it; the generic reason Failed (a remote failure) adds nothing.
local function namingTheCause(condition)
  local reason = condition.reason
  local message = describe(condition, nil)
  if message == nil then
    return "Failed: " .. tostring(reason)
  end
  if reason == nil or reason == "" or reason == "Failed" or hasPrefix(message, reason) then
    return message
  end
  return reason .. ": " .. message
end

local spec = obj.spec or {}
local status = obj.status
local generation = obj.metadata and obj.metadata.generation
local phase = status and status.phase or nil
local ready = findCondition(status, "Ready")
local synced = findCondition(status, "Synced")
local failed = findCondition(status, "Failed")

-- A stopped Service is suspended on purpose, unless it failed (that is worth a Degraded).
if obj.kind == "Service" and phase ~= "Failed" then
  if spec.stopped == true then
    hs.status = "Suspended"
    hs.message = describe(ready, "Service is stopped (spec.stopped)")
    return hs
  end
end

-- A stopped Notebook is suspended too: stopped on purpose, or by its lease (ModelArts stops
-- it and the operator leaves it so) unless a newer generation is starting it again.
if obj.kind == "Notebook" and phase ~= "Failed" then
  local current = status ~= nil and status.observedGeneration == generation
  if spec.stopped == true or (phase == "Stopped" and current) then
    hs.status = "Suspended"
    hs.message = describe(ready, "Notebook is stopped (spec.stopped)")
    return hs
  end
end

if status == nil or (phase == nil and (status.conditions == nil or #status.conditions == 0)) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile the object"
  return hs
end

if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if failed ~= nil and failed.status == "True" then
  hs.status = "Degraded"
  hs.message = namingTheCause(failed)
  return hs
end

if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = describe(ready, status.errorMessage or "Failed")
  return hs
end

if ready ~= nil and ready.status == "False" and (ready.reason == "Failed" or ready.reason == "Degraded") then
  hs.status = "Degraded"
  hs.message = describe(ready, ready.reason)
  return hs
end

if synced ~= nil and synced.status == "False" and not isTransient(synced.reason) then
  hs.status = "Degraded"
  hs.message = namingTheCause(synced)
  return hs
end

if ready ~= nil and ready.status == "True" then
  local stale = generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation
  if not stale then
    hs.status = "Healthy"
    hs.message = describe(ready, phase or "Ready")
    return hs
  end
end

hs.status = "Progressing"
if ready ~= nil then
  hs.message = describe(ready, ready.reason or phase or "Not ready")
elseif phase ~= nil then
  hs.message = phase
else
  hs.message = "Waiting for the Ready condition"
end
return hs
