-- Argo CD health check for region-operator's Region and DatabaseServer. Both follow the
-- kstatus convention: Ready, Reconciling and Stalled conditions with observedGeneration.
local hs = {}
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for region-operator to report status"
  return hs
end
if obj.metadata.generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < obj.metadata.generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for region-operator to observe the latest spec"
  return hs
end
local c = {}
for _, cond in ipairs(obj.status.conditions) do
  c[cond.type] = cond
end
local function is(t, s)
  return c[t] ~= nil and c[t].status == s
end
local function say(t, fallback)
  if c[t] ~= nil and c[t].message ~= nil and c[t].message ~= "" then
    return c[t].message
  end
  return fallback
end
if is("Suspended", "True") then
  hs.status = "Suspended"
  hs.message = say("Suspended", "Suspended")
elseif is("Stalled", "True") then
  hs.status = "Degraded"
  hs.message = say("Stalled", "Stalled")
elseif is("Ready", "True") then
  hs.status = "Healthy"
  hs.message = say("Ready", "Ready")
elseif is("Reconciling", "True") then
  hs.status = "Progressing"
  hs.message = say("Reconciling", "Reconciling")
elseif is("Ready", "False") then
  hs.status = "Degraded"
  hs.message = say("Ready", "Not ready")
else
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
end
return hs
