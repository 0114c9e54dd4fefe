-- tests/data/lua/cases.lua: the test script of tests/integration/lua.sh.
-- Each instant query with ?case=NAME runs one case; without `case` it
-- adds nothing. VERSION is rewritten by the test to check SIGHUP reloads.
local VERSION = 1

local P = {}
local log

local cases = {
    version = function(req, resp)
        resp:add_sample('lua_version', VERSION)
    end,
    lazy = function(req, resp)
        local calls = 0
        local f = function() calls = calls + 1; return 42 end
        resp:add_sample('lua_lazy', f, { t = 'a' })
        resp:add_sample('lua_lazy', f, { t = 'b' })
        resp:add_warning('calls ' .. calls)
    end,
    error = function(req, resp)
        error('deliberate failure')
    end,
    forbidden = function(req, resp)
        error(pvm.forbidden('token refused'))
    end,
    loop = function(req, resp)
        while true do end
    end,
    alloc = function(req, resp)
        local t = {}
        while true do t[#t + 1] = string.rep('y', 4096) .. #t end
    end,
    nan = function(req, resp)
        resp:add_sample('lua_nan', 0 / 0)
    end,
    badvalue = function(req, resp)
        resp:add_sample('lua_bad', { 'not a number' })
    end,
    badlabels = function(req, resp)
        resp:add_sample('lua_bad', 1, { a = true })
    end,
    header = function(req, resp)
        resp:add_warning('token=' .. (req.http_headers['x-token'] or 'none'))
    end,
}

function P.on_startup(context)
    log = context.logger
    log:info('cases.lua version', VERSION, 'started')
end

function P.on_instant_query_request(req, resp)
    local c = req.http_query.case
    if c and cases[c] then
        cases[c](req, resp)
    end
end

return P
