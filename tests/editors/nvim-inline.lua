-- Neovim 0.12 with only the configuration of docs/editors.md (loaded with -u before this file):
-- type at a hole, wait for the ghost text of vim.lsp.inline_completion, accept it with <Tab>.
-- Driven by tests/test_editors_neovim.py through environment variables:
--   CODESTRAL_TEST_FILE, CODESTRAL_TEST_LINE (1-based; typing starts at its end),
--   CODESTRAL_TEST_TYPE (text to type), CODESTRAL_TEST_OUT (JSON report), CODESTRAL_TEST_TIMEOUT.
-- The steps run in a coroutine that gives control back to the event loop while it waits, so
-- typed keys, timers and LSP messages are handled as in an interactive session.
local api = vim.api
local report = {}
local out = assert(os.getenv('CODESTRAL_TEST_OUT'))
local typed = assert(os.getenv('CODESTRAL_TEST_TYPE'))
local co

local function finish(ok)
  report.ok = ok
  local f = assert(io.open(out, 'w'))
  f:write(vim.json.encode(report))
  f:close()
  vim.cmd('qall!')
end

local function sleep(ms)
  vim.defer_fn(function()
    local ok, err = coroutine.resume(co)
    if not ok then
      report.error = tostring(err)
      finish(false)
    end
  end, ms)
  coroutine.yield()
end

local function wait(ms, check)
  local deadline = vim.uv.hrtime() + ms * 1e6
  while vim.uv.hrtime() < deadline do
    if check() then return true end
    sleep(50)
  end
  return check()
end

local function keys(text)
  api.nvim_feedkeys(api.nvim_replace_termcodes(text, true, true, true), 'mt', false)
end

local function ghost()
  local ns = api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  if not ns then return nil end
  for _, mark in ipairs(api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local parts = {}
    for _, chunk in ipairs(mark[4].virt_text or {}) do table.insert(parts, chunk[1]) end
    for _, line in ipairs(mark[4].virt_lines or {}) do
      local text = {}
      for _, chunk in ipairs(line) do table.insert(text, chunk[1]) end
      table.insert(parts, '\n' .. table.concat(text))
    end
    if #parts > 0 then return table.concat(parts) end
  end
  return nil
end

local function run()
  local timeout = tonumber(os.getenv('CODESTRAL_TEST_TIMEOUT') or '120') * 1000
  vim.cmd.edit(vim.fn.fnameescape(assert(os.getenv('CODESTRAL_TEST_FILE'))))
  local function client()
    return vim.lsp.get_clients({ bufnr = 0 })[1]
  end
  if not wait(60000, function() return client() ~= nil and client().initialized end) then
    report.error = 'codestral-ls did not attach'
    return finish(false)
  end
  report.client = client().name
  report.has_inline = client():supports_method('textDocument/inlineCompletion')
  api.nvim_win_set_cursor(0, { tonumber(os.getenv('CODESTRAL_TEST_LINE')), 0 })
  local started = vim.uv.hrtime()
  keys('A')
  for char in typed:gmatch('.') do
    keys(char)
    sleep(80)
  end
  local deadline = started + timeout * 1e6
  while ghost() == nil and vim.uv.hrtime() < deadline do
    if not wait(30000, function() return ghost() ~= nil end) then
      -- An empty answer while the model loaded: a keystroke asks again (not sooner: a new
      -- request supersedes the one in flight, and a generation can take 10 s on a busy machine).
      keys('<BS>' .. typed:sub(-1))
    end
  end
  report.wait_s = (vim.uv.hrtime() - started) / 1e9
  report.ghost = ghost()
  report.line_before = api.nvim_get_current_line()
  report.mode_when_shown = api.nvim_get_mode().mode
  if not report.ghost then return finish(false) end
  -- The same server answers textDocument/completion with nothing for a client that has inline
  -- completion (completion_item = "auto"), so the suggestion does not show twice.
  local params = vim.lsp.util.make_position_params(0, client().offset_encoding)
  local done, answer = false, nil
  client():request('textDocument/completion', params, function(_, result)
    done, answer = true, result
  end, 0)
  wait(30000, function() return done end)
  report.completion_items = answer and #(answer.items or answer) or -1
  keys('<Tab>')
  wait(5000, function() return ghost() == nil end)
  keys('<Esc>')
  wait(2000, function() return api.nvim_get_mode().mode == 'n' end)
  vim.cmd('write')
  report.after = api.nvim_buf_get_lines(0, 0, -1, false)
  finish(true)
end

vim.g.loaded_python3_provider = 0 -- the python ftplugin would probe for pynvim (seconds)
co = coroutine.create(function()
  local ok, err = pcall(run)
  if not ok then
    report.error = tostring(err)
    finish(false)
  end
end)
vim.schedule(function() coroutine.resume(co) end)
