-- Several candidates and server settings, in a real headless Neovim with the real codestral-ls:
--   nvim --headless -n -i NONE -u tests/e2e/cycle_e2e.lua
-- CODESTRAL_E2E_SCENARIO selects what runs (CODESTRAL_E2E_FILE: a copy of examples/stats.py;
-- CODESTRAL_E2E_LINE / _COL: the hole, 1-based line and 0-based byte column of its end):
--   cycle     setup() with only the server's command (CODESTRAL_E2E_MODE=fallback forces the
--             plugin's own ghost text, as on 0.10/0.11). In insert mode at the hole:
--             (a) the trigger key, then next, then <Tab>;
--             (b) the hole restored, the suggestion that comes by itself (an automatic request,
--                 one item), then next (which must ask explicitly first), then <Tab>.
--             Finally the same explicit request is sent over the plugin's client, so the test
--             can compare what was accepted with what the server offers.
--   settings  setup({ settings = CODESTRAL_E2E_SETTINGS (JSON) }): whatever vim.notify says is
--             kept; at the hole the suggestion that comes by itself is shown, then its first
--             character is typed; codestral/status before and after tells whether that was
--             served by type-through or by a new model call.
-- Results go to CODESTRAL_E2E_OUT as JSON.
local h = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/harness.lua')
local api = vim.api
local r = h.results

local notified = {}
local orig_notify = vim.notify
vim.notify = function(msg, level, ...)
  table.insert(notified, { tostring(msg), level or vim.log.levels.INFO })
  return orig_notify(msg, level, ...)
end
r.notified = notified

-- The trigger kinds of the inline completion requests the plugin itself sends (the built-in
-- module's own, on 0.12, are automatic ones).
local plugin_kinds = {}
local plugin_lsp = require('codestral.lsp')
local inline_request = plugin_lsp.inline_request
plugin_lsp.inline_request = function(client, bufnr, kind, callback)
  table.insert(plugin_kinds, kind)
  return inline_request(client, bufnr, kind, callback)
end

local function kinds_since(n)
  return { unpack(plugin_kinds, n + 1) }
end

local function server_cmd()
  return { (assert(h.env('CODESTRAL_E2E_SERVER'), 'CODESTRAL_E2E_SERVER')) }
end

local FILE = (assert(h.env('CODESTRAL_E2E_FILE'), 'CODESTRAL_E2E_FILE'))
local LNUM = tonumber((assert(h.env('CODESTRAL_E2E_LINE'), 'CODESTRAL_E2E_LINE')))
local COL = tonumber((assert(h.env('CODESTRAL_E2E_COL'), 'CODESTRAL_E2E_COL')))

local function open()
  vim.cmd('edit ' .. vim.fn.fnameescape(FILE))
  local buf = api.nvim_get_current_buf()
  local client = h.wait_ready(buf, 150000)
  r.timings.ready_ms = h.now_ms()
  r.path = require('codestral.controller').path
  r.hole = api.nvim_buf_get_lines(buf, LNUM - 1, LNUM, false)[1]
  return buf, client
end

--- Insert mode at the end of the hole, as `A` leaves the cursor there.
local function enter_hole(buf)
  api.nvim_win_set_cursor(0, { LNUM, 0 })
  h.feed('A')
  h.wait_until('insert mode at the hole', 3000, function()
    local c = api.nvim_win_get_cursor(0)
    return api.nvim_get_mode().mode == 'i' and c[1] == LNUM and c[2] == COL
  end)
  return buf
end

local function line()
  return api.nvim_buf_get_lines(0, LNUM - 1, LNUM, false)[1]
end

local function shown_items(buf)
  local g = require('codestral.ghost').get(buf)
  return g and { items = vim.deepcopy(g.items), index = g.index, explicit = g.explicit } or vim.NIL
end

--- <Tab>, then the hole's line as it is after the accept.
local function accept()
  local before = line()
  h.feed('<Tab>', true)
  h.wait_until('the accepted text', 5000, function()
    return line() ~= before
  end)
  h.sleep(50)
  return line()
end

local function leave_and_restore(buf)
  h.feed('<Esc>')
  h.wait_until('normal mode', 3000, function()
    return api.nvim_get_mode().mode == 'n'
  end)
  api.nvim_buf_set_lines(buf, LNUM - 1, LNUM, false, { r.hole })
  h.sleep(100)
end

local function wait_second(buf, what)
  return h.wait_until(what, 120000, function()
    local g = require('codestral.ghost').get(buf)
    return g and g.explicit and g.index == 2 and #g.items >= 2 and h.ghost_text(buf)
  end)
end

local function cycle_scenario()
  require('codestral').setup({
    cmd = server_cmd(),
    mode = h.env('CODESTRAL_E2E_MODE', 'auto'),
  })
  local buf, client = open()

  -- (a) Trigger, next, <Tab>.
  enter_hole(buf)
  local kinds = #plugin_kinds
  h.feed('<M-\\>', true)
  h.wait_until('the answer to the trigger key', 120000, function()
    local g = require('codestral.ghost').get(buf)
    return g and g.explicit and h.ghost_text(buf)
  end)
  r.trigger = { ghost = h.ghost_text(buf), shown = shown_items(buf) }
  h.feed('<M-]>', true)
  h.sleep(100)
  r.trigger.after_next = { ghost = h.ghost_text(buf) or vim.NIL, shown = shown_items(buf) }
  r.trigger.kinds = kinds_since(kinds)
  r.trigger.line = accept()
  leave_and_restore(buf)

  -- (b) The suggestion that comes by itself, next (an explicit request first), <Tab>.
  enter_hole(buf)
  r.auto = {}
  r.auto.ghost = h.wait_until('a suggestion by itself', 120000, function()
    return h.ghost_text(buf)
  end)
  r.auto.shown = shown_items(buf)
  kinds = #plugin_kinds
  h.feed('<M-]>', true)
  wait_second(buf, 'the second suggestion after next')
  r.auto.after_next = { ghost = h.ghost_text(buf), shown = shown_items(buf) }
  r.auto.kinds = kinds_since(kinds)
  r.auto.line = accept()
  leave_and_restore(buf)

  -- What the server offers an explicit request at the hole, asked over the plugin's client.
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = LNUM - 1, character = COL },
    context = { triggerKind = 1 },
  }
  local answer = require('codestral.lsp').request_sync(client, 'textDocument/inlineCompletion', params, 120000, buf)
  assert(answer and not answer.err, 'explicit request failed: ' .. vim.inspect(answer))
  r.server_items = answer.result.items or answer.result
  r.buffer_unchanged = table.concat(api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
    == table.concat(vim.fn.readfile(FILE), '\n')
end

local function server_status(client, buf)
  local answer = require('codestral.lsp').request_sync(client, 'codestral/status', vim.empty_dict(), 10000, buf)
  assert(answer and not answer.err, 'codestral/status failed: ' .. vim.inspect(answer))
  return answer.result
end

local function settings_scenario()
  local settings = vim.json.decode(h.env('CODESTRAL_E2E_SETTINGS', '{}'))
  require('codestral').setup({ cmd = server_cmd(), settings = settings })
  r.setup_accepted = require('codestral').opts ~= nil
  local buf, client = open()
  r.status_ready = server_status(client, buf)
  enter_hole(buf)
  local ghost = h.wait_until('a suggestion by itself', 120000, function()
    return h.ghost_text(buf)
  end)
  r.ghost = ghost
  -- Let the server finish what follows an answer (speculation, warming), then count.
  h.wait_until('the server to be idle', 60000, function()
    local st = require('codestral.status').last
    return st and st.state == 'ready'
  end)
  h.sleep(1500)
  local before = server_status(client, buf)
  r.status_before = before
  local typed = ghost.text:sub(1, 1)
  r.typed = typed
  h.feed(typed)
  local function served(st)
    return st.modelCalls + st.typeThroughHits + st.cacheHits + st.speculationHits
  end
  h.wait_until('the server to answer the request after the typed character', 120000, function()
    local now = server_status(client, buf)
    return served(now) > served(before) and now.state == 'ready'
  end)
  h.sleep(300)
  r.status_after = server_status(client, buf)
  r.ghost_after_typing = h.ghost_text(buf) or vim.NIL
  r.line_typed = line()
  h.feed('<Esc>')
  h.sleep(50)
  r.status_line = require('codestral').statusline()
end

local scenarios = { cycle = cycle_scenario, settings = settings_scenario }
local name = h.env('CODESTRAL_E2E_SCENARIO', 'cycle')
r.scenario = name
h.run(assert(scenarios[name], 'unknown scenario ' .. name), tonumber(h.env('CODESTRAL_E2E_LIMIT_MS', '300000')))
