-- example.lua: the seed's example plugin in Lua, the counterpart of
-- plugins/example.c. Serves one metric (name set by `metric_name`,
-- default prometheus_virtual_metrics_example_metric) with labels type in
-- {sine, cosine, square, sawtooth} and amplitude in {1, 5, 10}: 12 series
-- whose values follow the wave shape over a 60 s period, computed at the
-- requested timestamps. Its answers are byte for byte those of the C
-- plugin (tests/unit/test_plugin_lua_example.c checks it).
--
--   [plugin:waves]
--   type = lua
--   script = example.lua
--   ;metric_name = prometheus_virtual_metrics_example_metric

local plugin = {}

local METRIC_NAME = 'prometheus_virtual_metrics_example_metric'
local TYPES = { 'sine', 'cosine', 'square', 'sawtooth' }
local AMPLITUDES = { '1', '5', '10' }
local AMPLITUDE_VALUES = { 1, 5, 10 }

-- the label tables of the 12 series, made once, in the order
-- amplitude x type
local SERIES = {}
for a = 1, 3 do
    for t = 1, 4 do
        SERIES[#SERIES + 1] = {
            labels = { type = TYPES[t], amplitude = AMPLITUDES[a] },
            wave = t,
            amplitude = AMPLITUDE_VALUES[a],
        }
    end
end

local sin, cos, fmod, pi = math.sin, math.cos, math.fmod, math.pi

-- the four wave shapes at amplitude 1, secs seconds into their 60 s
-- period (sine, cosine, square, sawtooth: TYPES order)
local function unit_waves(secs)
    return sin(secs * 2 * pi / 60), cos(secs * 2 * pi / 60),
        secs < 30 and 1 or -1, secs / 60
end

local metric = METRIC_NAME

-- context hooks
function plugin.on_startup(context)
    metric = context.settings.metric_name or METRIC_NAME
    context.logger:info('serving', metric)
end

-- data request hooks: 12 samples per timestamp (just `time` for an
-- instant query)
local function on_query_request(request, response)
    -- not strictly necessary (the response checks too), but it skips work
    if not request.query:name_matches(metric) then
        return
    end
    -- the series the query selects, looked up once for all their points
    -- (response:add_sample(metric, value, labels, timestamp) per point
    -- gives the same answer, at twice the cost)
    local selected = {}
    for _, s in ipairs(SERIES) do
        local handle = response:series(metric, s.labels)
        if handle then
            selected[#selected + 1] = { handle = handle, wave = s.wave,
                                        amplitude = s.amplitude }
        end
    end
    local waves = {}
    for timestamp in request:timestamps() do
        local secs = fmod(timestamp, 60)
        if secs < 0 then
            secs = secs + 60
        end
        waves[1], waves[2], waves[3], waves[4] = unit_waves(secs)
        for i = 1, #selected do
            local s = selected[i]
            s.handle:add(timestamp, waves[s.wave] * s.amplitude)
        end
    end
end

plugin.on_range_query_request = on_query_request
plugin.on_instant_query_request = on_query_request

-- metrics and label discovery hooks
function plugin.on_metric_names_request(request, response)
    if not request.query:name_matches(metric) then
        return
    end
    response:add_value(metric)
end

function plugin.on_label_names_request(request, response)
    if not request.query:name_matches(metric) then
        return
    end
    response:add_value({ '__name__', 'type', 'amplitude' })
end

function plugin.on_label_values_request(request, response)
    if not request.query:name_matches(metric) then
        return
    end
    if request.label_name == 'type' then
        response:add_value(TYPES)
    elseif request.label_name == 'amplitude' then
        response:add_value(AMPLITUDES)
    end
end

-- pvm's metadata hook: a gauge (a wave goes up and down), without a unit
function plugin.on_metadata_request(request, response)
    response:add_metadata({
        name = metric,
        type = 'gauge',
        help = 'Example waves (sine, cosine, square, sawtooth) with a 60 s period.',
    })
end

return plugin
