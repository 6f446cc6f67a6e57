-- Resting the cursor and the first suggestion, in a real headless Neovim:
--   nvim --headless -n -i NONE -u tests/e2e/focus_e2e.lua
-- CODESTRAL_E2E_SCENARIO selects what runs:
--   focus     the in-process stand-in server (fake_server.lua), held "loading" at first:
--             which codestral/didFocus notifications reach it while the user moves, rests
--             and types, and the suggestion that appears by itself once the model is ready.
--             CODESTRAL_E2E_MODE (native|fallback), CODESTRAL_E2E_LEGACY=1 as in inline_e2e;
--             CODESTRAL_E2E_WAIT_FOR_LOAD=1: the server holds requests made while loading and
--             answers them once ready (else it answers them at once, with nothing).
--   textwrap  the real codestral-ls (CODESTRAL_E2E_SERVER) with default settings, on a large
--             file nobody here wrote (CODESTRAL_E2E_FILE): blank the line CODESTRAL_E2E_LINE
--             (1-based) down to its indentation, rest there, type CODESTRAL_E2E_TYPED in insert
--             mode, wait up to CODESTRAL_E2E_DEADLINE_MS for ghost text and accept it.
-- Results go to CODESTRAL_E2E_OUT as JSON.
local h = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/harness.lua')
local api = vim.api
local r = h.results

--- didFocus positions sent since index `from` (exclusive).
local function focus_since(from)
  return { unpack(h.focus, from + 1) }
end

local function focus_scenario()
  local mode = h.env('CODESTRAL_E2E_MODE', 'native')
  local fake = dofile(h.root .. '/tests/e2e/fake_server.lua')
  fake.hold_loading = true
  fake.wait_for_load = h.env('CODESTRAL_E2E_WAIT_FOR_LOAD') == '1'
  require('codestral').setup({
    cmd = fake.cmd,
    mode = mode,
    _legacy_start = h.env('CODESTRAL_E2E_LEGACY') == '1',
  })
  r.path = require('codestral.controller').path
  local buf = h.edit(h.dir .. '/fib.py', h.FIB)
  h.wait_until('the client to attach', 20000, function()
    return require('codestral.lsp').client(buf)
  end)
  -- 1. Opening the file: the server hears where the cursor is, once it rests.
  h.sleep(700)
  r.focus_after_open = focus_since(0)
  r.server_focus_after_open = #fake.focus
  -- 2. A move in normal mode, then a rest: one didFocus, for where the cursor stopped.
  local n = #h.focus
  api.nvim_win_set_cursor(0, { 3, 0 })
  h.sleep(60)
  api.nvim_win_set_cursor(0, { 5, 2 })
  h.sleep(700)
  r.focus_after_move = focus_since(n)
  -- 3. Away and back to the same place, then a rest: the server knows it already.
  n = #h.focus
  api.nvim_win_set_cursor(0, { 1, 0 })
  h.sleep(60)
  api.nvim_win_set_cursor(0, { 5, 2 })
  h.sleep(700)
  r.focus_after_return = focus_since(n)
  -- 4. Typing while the model loads: no suggestion, no didFocus (the requests say it all).
  n = #h.focus
  local requests = h.requests
  h.feed('A')
  for c in ('fibonacci(n - '):gmatch('.') do
    h.feed(c)
    h.sleep(30)
  end
  h.sleep(700)
  r.focus_while_typing = focus_since(n)
  r.requests_while_loading = h.requests - requests
  r.ghost_while_loading = h.ghost_text(buf) or vim.NIL
  r.mode_before_ready = api.nvim_get_mode().mode
  -- 5. The model is ready: the suggestion comes without another key (from a new request, or
  --    from the one the server held).
  requests = h.requests
  local line = api.nvim_get_current_line()
  fake.finish_loading()
  local ok = pcall(h.wait_until, 'ghost text after ready', 3000, function()
    return h.ghost_text(buf)
  end)
  r.ghost_after_ready = ok and h.ghost_text(buf) or vim.NIL
  h.sleep(300)
  r.requests_after_ready = h.requests - requests
  r.focus_at_ready = focus_since(n)
  r.line_unchanged_until_ready = api.nvim_get_current_line() == line
  if ok then
    h.feed('<Tab>', true)
    h.wait_until('the accepted text', 3000, function()
      return api.nvim_get_current_line() ~= line
    end)
  end
  r.line_after_accept = api.nvim_get_current_line()
  h.feed('<Esc>')
  h.sleep(100)
  r.server_focus = fake.focus
  r.server_requests = fake.requests
end

local function textwrap_scenario()
  local file = (assert(h.env('CODESTRAL_E2E_FILE'), 'CODESTRAL_E2E_FILE'))
  local lnum = tonumber((assert(h.env('CODESTRAL_E2E_LINE'), 'CODESTRAL_E2E_LINE')))
  local typed = (assert(h.env('CODESTRAL_E2E_TYPED'), 'CODESTRAL_E2E_TYPED'))
  local deadline = tonumber(h.env('CODESTRAL_E2E_DEADLINE_MS', '60000'))
  -- Default settings: only where the server is.
  require('codestral').setup({ cmd = { (assert(h.env('CODESTRAL_E2E_SERVER'), 'CODESTRAL_E2E_SERVER')) } })
  r.path = require('codestral.controller').path
  local buf = h.edit(file)
  h.wait_ready(buf, 150000)
  r.timings.ready_ms = h.now_ms()
  h.log('ready')
  -- Blank the line down to its indentation, and move there as a user would.
  local original = api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1]
  local indent = original:match('^%s*')
  r.original_line = original
  api.nvim_buf_set_lines(buf, lnum - 1, lnum, false, { indent })
  h.sleep(50)
  local n = #h.focus
  api.nvim_win_set_cursor(0, { lnum, #indent })
  r.cursor_at_rest = api.nvim_win_get_cursor(0)
  -- Rest: the plugin tells the server where the cursor is.
  h.sleep(1500)
  r.focus_at_rest = focus_since(n)
  -- Type the statement's first character at the end of the indentation.
  local requests = h.requests
  local started = h.now_ms()
  h.feed('A' .. typed)
  h.sleep(20)
  r.line_typed = api.nvim_get_current_line()
  local ok = pcall(h.wait_until, 'ghost text', deadline, function()
    return h.ghost_text(buf)
  end)
  r.timings.ghost_ms = h.now_ms() - started
  r.requests_for_ghost = h.requests - requests
  r.ghost = ok and h.ghost_text(buf) or vim.NIL
  r.mode_when_shown = api.nvim_get_mode().mode
  if ok then
    local before = api.nvim_get_current_line()
    h.feed('<Tab>', true)
    h.wait_until('the accepted text', 5000, function()
      return api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1] ~= before
    end)
    h.sleep(50)
  end
  r.line_after_accept = api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1]
  r.accepted_lines = api.nvim_buf_get_lines(buf, lnum - 1, lnum + 4, false)
  h.feed('<Esc>')
  h.sleep(50)
  r.status = vim.deepcopy(require('codestral.status').last)
end

local scenarios = { focus = focus_scenario, textwrap = textwrap_scenario }
local name = h.env('CODESTRAL_E2E_SCENARIO', 'focus')
r.scenario = name
h.run(assert(scenarios[name], 'unknown scenario ' .. name), tonumber(h.env('CODESTRAL_E2E_LIMIT_MS', '150000')))
