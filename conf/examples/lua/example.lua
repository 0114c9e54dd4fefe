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

-- the label tables of the 12 series, made once
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

-- the four wave shapes at amplitude 1, secs seconds into their period
local function unit_waves(secs)
    return {
        math.sin(secs * 2 * math.pi / 60),
        math.cos(secs * 2 * math.pi / 60),
        secs < 30 and 1 or -1,
        secs / 60,
    }
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
    -- not strictly necessary (add_sample checks too), but it skips work
    if not request.query:name_matches(metric) then
        return
    end
    for timestamp in request:timestamps() do
        local secs = math.fmod(timestamp, 60)
        if secs < 0 then
            secs = secs + 60
        end
        local w = unit_waves(secs)
        for _, s in ipairs(SERIES) do
            response:add_sample(metric, w[s.wave] * s.amplitude, s.labels,
                                timestamp)
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
