-- End-to-end scenario in a real headless Neovim with the real codestral-ls:
--   nvim --headless -n -i NONE -u tests/e2e/inline_e2e.lua
-- Environment: CODESTRAL_E2E_SERVER (executable), CODESTRAL_E2E_MODE (native|fallback),
-- CODESTRAL_E2E_LEGACY=1 (start with vim.lsp.start as on 0.10), CODESTRAL_E2E_DIR (work dir),
-- CODESTRAL_E2E_OUT (JSON results), CODESTRAL_E2E_HEALTH=1 (also run :checkhealth).
-- Steps run in a coroutine that yields to the event loop between steps, so typed keys,
-- timers and LSP messages are processed as in an interactive session (tests/e2e/harness.lua).
local h = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/harness.lua')
local api = vim.api
local env, log, sleep, wait_until, feed, ghost_text = h.env, h.log, h.sleep, h.wait_until, h.feed, h.ghost_text
local root, now_ms = h.root, h.now_ms
local MODE = env('CODESTRAL_E2E_MODE', 'native')
local DIR = h.dir
local results = h.results
results.mode = MODE

local progress = 0
api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    progress = progress + 1
    local value = ev.data and ev.data.params and ev.data.params.value or {}
    log(('progress %s %s'):format(tostring(value.kind), tostring(value.message or value.title or '')))
  end,
})

--- Type `typed` at the end of line `lnum` (1-based), one key every `gap` ms, then wait for a
--- suggestion. Returns the ghost text and the number of requests this burst caused.
local function type_and_wait(buf, lnum, typed, gap)
  api.nvim_win_set_cursor(0, { lnum, 0 })
  local before = h.requests
  feed('A')
  for i = 1, #typed do
    feed(typed:sub(i, i))
    sleep(gap)
  end
  local started = now_ms()
  local ghost = wait_until('ghost text', 45000, function()
    return ghost_text(buf)
  end)
  local waited = now_ms() - started
  sleep(400) -- let any late request show up in the count
  return ghost, h.requests - before, waited
end

h.run(function()
  log('setup')
  local settings = { max_tokens = 24 }
  local fake = env('CODESTRAL_E2E_FAKE') == '1' and dofile(root .. '/tests/e2e/fake_server.lua')
  require('codestral').setup({
    cmd = fake and fake.cmd or { (assert(env('CODESTRAL_E2E_SERVER'), 'CODESTRAL_E2E_SERVER')) },
    log_file = DIR .. '/server.log',
    mode = MODE,
    show_with_menu = env('CODESTRAL_E2E_SHOW_WITH_MENU') == '1',
    settings = settings,
    _legacy_start = env('CODESTRAL_E2E_LEGACY') == '1',
  })
  local buf = h.edit(DIR .. '/fib.py', h.FIB)
  log('opened ' .. vim.bo[buf].filetype)
  h.wait_ready(buf, 60000)
  local status = require('codestral.status')
  results.timings.ready_ms = now_ms()
  results.status = vim.deepcopy(status.last)
  results.statusline = require('codestral').statusline()
  results.progress_events = progress
  results.path = require('codestral.controller').path
  log('ready: ' .. vim.inspect(status.last))

  -- 1. Type a burst, see ghost text, accept it all with <Tab>.
  local typed = 'fibonacci(n - '
  local ghost, burst, waited = type_and_wait(buf, 5, typed, 35)
  results.keys_typed = #typed + 1
  results.requests_in_burst = burst
  results.timings.first_ghost_wait_ms = waited
  results.ghost = ghost
  results.mode_when_shown = api.nvim_get_mode().mode
  log('ghost: ' .. vim.inspect(ghost))
  local line_before = api.nvim_buf_get_lines(buf, 4, 5, false)[1]
  results.line_before_accept = line_before
  feed('<Tab>', true)
  wait_until('the accepted text', 3000, function()
    return api.nvim_buf_get_lines(buf, 4, 5, false)[1] ~= line_before
  end)
  sleep(50)
  results.after_accept = api.nvim_buf_get_lines(buf, 0, -1, false)
  results.cursor_after_accept = api.nvim_win_get_cursor(0)
  feed('<Esc>')
  sleep(100)
  results.ghost_after_esc = ghost_text(buf)
  results.mode_after_esc = api.nvim_get_mode().mode

  -- 2. Partial accepts: the next word, then the rest of the line; what is left stays shown.
  local start = #results.after_accept - #h.FIB -- lines the first accept added
  local lnum = 10 + start
  local ghost2 = type_and_wait(buf, lnum, 'sum(', 35)
  results.ghost2 = ghost2
  local before2 = api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1]
  results.line_before_word = before2
  feed('<M-Right>', true)
  wait_until('the accepted word', 3000, function()
    return api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1] ~= before2
  end)
  sleep(20)
  results.line_after_word = api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1]
  results.ghost_after_word = ghost_text(buf)
  results.word_line_index = lnum - 1
  if results.ghost_after_word then
    results.lines_before_line_accept = api.nvim_buf_get_lines(buf, 0, -1, false)
    feed('<M-C-Right>', true)
    sleep(20)
    results.lines_after_line_accept = api.nvim_buf_get_lines(buf, 0, -1, false)
    results.line_after_line = api.nvim_buf_get_lines(buf, lnum - 1, lnum, false)[1]
    results.ghost_after_line = ghost_text(buf)
  end
  feed('<Esc>')
  sleep(50)

  if env('CODESTRAL_E2E_EXTRA') == '1' then
    -- 3. No suggestion while the popup menu is open; back once it closes.
    local last = api.nvim_buf_line_count(buf)
    api.nvim_win_set_cursor(0, { last, 0 })
    feed('o')
    feed('fib')
    sleep(50)
    feed('<C-n>')
    wait_until('the popup menu', 3000, function()
      return vim.fn.pumvisible() == 1
    end)
    sleep(700)
    results.pum_line = api.nvim_get_current_line()
    results.ghost_with_menu = ghost_text(buf) or vim.NIL
    results.pum_still_open = vim.fn.pumvisible() == 1
    feed('<C-e>')
    sleep(50)
    feed('o')
    local ok = pcall(wait_until, 'ghost text after the menu closed', 5000, function()
      return ghost_text(buf)
    end)
    results.ghost_after_menu = ok and ghost_text(buf) or vim.NIL
    -- 4. :Codestral disable: no requests, no ghost text; the server is told.
    feed('<Esc>')
    sleep(50)
    vim.cmd('Codestral disable')
    local before = h.requests
    api.nvim_win_set_cursor(0, { 5, 0 })
    feed('A')
    feed(' # x')
    sleep(800)
    results.requests_while_disabled = h.requests - before
    results.ghost_while_disabled = ghost_text(buf) or vim.NIL
    results.statusline_disabled = require('codestral').statusline()
    feed('<Esc>')
    sleep(50)
    vim.cmd('Codestral enable')
    sleep(50)
    -- 6. :Codestral status shows what the server says about itself.
    vim.cmd('messages clear')
    vim.cmd('Codestral status')
    sleep(300)
    results.status_command = vim.fn.execute('messages')
    -- 7. A server error reaches vim.notify once, however often the server repeats it.
    local notified = {}
    local orig_notify = vim.notify
    vim.notify = function(msg, level)
      table.insert(notified, { msg, level })
    end
    require('codestral').update_settings({ api_base = 'http://127.0.0.1:9' })
    sleep(400)
    vim.notify = orig_notify
    results.notified = notified
    results.statusline_error = require('codestral').statusline()
    -- 5. An edit while a request is in flight cancels it (slow answers from here on).
    if fake then
      fake.delay_ms = 1500
      local cancelled = fake.cancelled
      local sent = h.requests
      api.nvim_win_set_cursor(0, { 1, 0 })
      feed('A')
      feed(' ')
      wait_until('a request in flight', 3000, function()
        return h.requests > sent
      end)
      sleep(50)
      feed('x')
      sleep(300)
      results.cancelled_on_edit = fake.cancelled - cancelled
      feed('<Esc>')
      sleep(50)
      fake.delay_ms = 80
      -- 8. Dismiss hides the suggestion; the trigger key asks again at once.
      api.nvim_win_set_cursor(0, { api.nvim_buf_line_count(buf), 0 })
      feed('A')
      results.ghost_before_dismiss = wait_until('ghost text', 5000, function()
        return ghost_text(buf)
      end)
      -- The shown suggestion answered an automatic request (one item): next asks explicitly,
      -- then shows the second item; previous goes back to the first without asking.
      local before_next = h.requests
      local kinds_before = #fake.kinds
      feed('<M-]>', true)
      pcall(wait_until, 'the second suggestion', 3000, function()
        local g = ghost_text(buf)
        return g and g.text ~= results.ghost_before_dismiss.text
      end)
      results.ghost_after_next = ghost_text(buf) or vim.NIL
      results.requests_by_next = h.requests - before_next
      results.kinds_by_next = { unpack(fake.kinds, kinds_before + 1) }
      local before_prev = h.requests
      feed('<M-[>', true)
      sleep(150)
      results.ghost_after_prev = ghost_text(buf) or vim.NIL
      results.requests_by_prev = h.requests - before_prev
      feed('<M-]>', true)
      sleep(150)
      results.ghost_after_next_again = ghost_text(buf) or vim.NIL
      feed('<C-]>', true)
      sleep(400)
      results.ghost_after_dismiss = ghost_text(buf) or vim.NIL
      local before_trigger = h.requests
      feed('<M-\\>', true)
      local shown = pcall(wait_until, 'ghost text from the trigger key', 5000, function()
        return ghost_text(buf)
      end)
      results.ghost_after_trigger = shown and ghost_text(buf) or vim.NIL
      results.requests_by_trigger = h.requests - before_trigger
      feed('<Esc>')
      sleep(50)
      -- 9. Typing the suggestion's next character, then <Tab> at once, inserts the rest once.
      feed('A')
      wait_until('ghost text', 5000, function()
        return ghost_text(buf)
      end)
      feed('n')
      feed('<Tab>', true)
      sleep(150)
      results.line_after_typed_accept = api.nvim_get_current_line()
      feed('<Esc>')
      sleep(50)
    end
  end

  if env('CODESTRAL_E2E_HEALTH') == '1' then
    vim.cmd('checkhealth codestral')
    sleep(200)
    results.health = api.nvim_buf_get_lines(0, 0, -1, false)
  end
  if fake then
    results.fake = {
      init_options = fake.init_options,
      requests = fake.requests,
      cancelled = fake.cancelled,
      settings_changes = fake.settings_changes,
    }
  end
end, 150000)
