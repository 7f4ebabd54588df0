-- Argo CD health check for the modelarts-operator kinds (group modelarts.huaweicloud.com):
-- Workspace, TrainingJob, Model, Service and Notebook share this script; a Service or a
-- Notebook can be Suspended.
--   Healthy      condition Ready=True for the current generation
--   Suspended    a stopped Service (spec.stopped: true, or phase Stopped); a stopped Notebook
--                (spec.stopped: true, or its lease stopped it: phase Stopped)
--   Degraded     phase Failed; Ready=False with reason Failed or Degraded (a v2 Service that is
--                CONCERNING); Synced=False with a terminal
--                reason (the ModelArts error code of a refused request: invalid parameter,
--                quota, permission); the message is the condition's
--   Progressing  anything else: no status yet, an older generation observed, waiting for a
--                dependency, queued, running, deploying, or a retried (transient) error
-- Written for Lua 5.1 (gopher-lua, Argo CD's interpreter).
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

local function isTransient(reason)
  if reason == nil or reason == "" then
    return true
  end
  if transientReasons[reason] then
    return true
  end
  -- WaitingForWorkspace, WaitingForModel, ...: a dependency is not ready yet.
  return string.sub(reason, 1, 10) == "WaitingFor"
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

local spec = obj.spec or {}
local status = obj.status
local generation = obj.metadata and obj.metadata.generation
local phase = status and status.phase or nil
local ready = findCondition(status, "Ready")
local synced = findCondition(status, "Synced")

-- A stopped Service is suspended on purpose, unless it failed (that is worth a Degraded).
if obj.kind == "Service" and phase ~= "Failed" then
  if spec.stopped == true or (phase == "Stopped" and spec.stopped ~= false) then
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

if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = describe(ready, status.errorMessage or "Failed")
  return hs
end

if ready ~= nil and ready.status == "False" and (ready.reason == "Failed" or ready.reason == "Degraded") then
  -- Degraded: a v2 Service that is CONCERNING (some instances abnormal)
  hs.status = "Degraded"
  hs.message = describe(ready, ready.reason)
  return hs
end

if synced ~= nil and synced.status == "False" and not isTransient(synced.reason) then
  hs.status = "Degraded"
  hs.message = describe(synced, "Not synced: " .. tostring(synced.reason))
  if synced.reason ~= nil and not string.find(hs.message, synced.reason, 1, true) then
    hs.message = synced.reason .. ": " .. hs.message
  end
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
