-- What the end-to-end scenarios share: the plugin on 'runtimepath', a coroutine that yields to
-- the event loop between steps (so typed keys, timers and LSP messages are processed as in an
-- interactive session), keys, waiting, reading the ghost text from either renderer, and the
-- JSON results file. Usage, from a script run with `nvim --headless -n -i NONE -u SCRIPT`:
--   local h = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/harness.lua')
--   h.run(function() ... h.results.x = ... end, 150000)
local M = {}

M.root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')
vim.opt.runtimepath:prepend(M.root)
vim.o.swapfile = false
vim.o.showmode = false
vim.o.shadafile = 'NONE'
-- The python ftplugin would probe python3 for pynvim (seconds); not what is tested here.
vim.g.loaded_python3_provider = 0
vim.o.completeopt = 'menuone'
vim.cmd('runtime plugin/codestral.lua')

local api = vim.api
local t0 = vim.uv.hrtime()

function M.env(name, default)
  local v = os.getenv(name)
  return (v and v ~= '') and v or default
end

M.dir = (assert(M.env('CODESTRAL_E2E_DIR'), 'CODESTRAL_E2E_DIR'))
M.out = M.env('CODESTRAL_E2E_OUT', M.dir .. '/result.json')
M.results = { events = {}, timings = {} }

function M.now_ms()
  return math.floor((vim.uv.hrtime() - t0) / 1e6)
end

function M.log(what)
  table.insert(M.results.events, ('%6d ms  %s'):format(M.now_ms(), what))
end

local finished = false
function M.finish(err)
  if finished then
    return
  end
  finished = true
  -- Stop the server the way :quit does, but wait for it, so it exits cleanly.
  for _, client in ipairs(vim.lsp.get_clients({ name = 'codestral' })) do
    client:stop()
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients({ name = 'codestral' }) == 0
  end, 50)
  M.results.ok = err == nil
  M.results.error = err
  local f = assert(io.open(M.out, 'w'))
  f:write(vim.json.encode(M.results))
  f:close()
  vim.cmd('qa!')
end

local co
local function resume(...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    M.finish(debug.traceback(co, tostring(err)))
  elseif coroutine.status(co) == 'dead' then
    M.finish(nil)
  end
end

function M.sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

function M.wait_until(what, timeout_ms, cond)
  local start = M.now_ms()
  while true do
    local v = cond()
    if v then
      return v
    end
    if M.now_ms() - start > timeout_ms then
      error(('timed out after %d ms waiting for %s'):format(timeout_ms, what), 2)
    end
    M.sleep(25)
  end
end

function M.feed(keys, remap)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, true, true), remap and 'mt' or 'nt', false)
end

-- Inline completion requests and codestral/didFocus notifications the client sends.
M.requests = 0
M.focus = {}
api.nvim_create_autocmd('LspRequest', {
  callback = function(ev)
    local req = ev.data and ev.data.request
    if req and req.type == 'pending' and req.method == 'textDocument/inlineCompletion' then
      M.requests = M.requests + 1
      M.log('request #' .. M.requests)
    end
  end,
})
api.nvim_create_autocmd('LspNotify', {
  callback = function(ev)
    if ev.data and ev.data.method == 'codestral/didFocus' then
      local p = ev.data.params
      table.insert(M.focus, { p.position.line, p.position.character })
      M.log(('didFocus %d:%d'):format(p.position.line, p.position.character))
    end
  end,
})

--- The ghost text on screen: first line and further lines, from either renderer.
function M.ghost_text(buf)
  for _, ns_name in ipairs({ 'nvim.lsp.inline_completion', 'codestral.ghost' }) do
    local ns = api.nvim_create_namespace(ns_name)
    local marks = api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
    if #marks > 0 then
      local d = marks[1][4]
      local function join(chunks)
        local s = {}
        for _, c in ipairs(chunks or {}) do
          if c[2] == 'ComplHint' or c[2] == 'CodestralSuggestion' then
            table.insert(s, c[1])
          end
        end
        return table.concat(s)
      end
      local lines = { join(d.virt_text) }
      for _, vl in ipairs(d.virt_lines or {}) do
        table.insert(lines, join(vl))
      end
      return { text = table.concat(lines, '\n'), ns = ns_name, row = marks[1][2], col = marks[1][3] }
    end
  end
  return nil
end

--- fib.py, the file inline_e2e and focus_e2e edit: two holes, the `return ` of
--- fibonacci() (line 5) and the `total = ` of average() (line 10).
M.FIB = {
  'def fibonacci(n):',
  '    """Return the n-th Fibonacci number."""',
  '    if n < 2:',
  '        return n',
  '    return ',
  '',
  '',
  'def average(values):',
  '    """Return the arithmetic mean of a list of numbers."""',
  '    total = ',
  '',
  '',
  'def main():',
  '    print(fibonacci(10), average([1, 2, 3]))',
}

--- Edit `file` (first written with `lines`, when given) in the current window; its buffer.
function M.edit(file, lines)
  if lines then
    vim.fn.writefile(lines, file)
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  return api.nvim_get_current_buf()
end

--- Wait for the client to attach to `buf` and the server to say "ready".
function M.wait_ready(buf, timeout_ms)
  local client = M.wait_until('the client to attach', 20000, function()
    return require('codestral.lsp').client(buf)
  end)
  M.log('attached, encoding ' .. client.offset_encoding)
  local status = require('codestral.status')
  M.wait_until('the server to be ready', timeout_ms, function()
    local st = status.last and status.last.state
    if st == 'error' then
      error('the server reported an error: ' .. status.last.message)
    end
    return st == 'ready'
  end)
  return client
end

--- Run `steps` in the coroutine once Neovim has started; give up after `limit_ms`.
function M.run(steps, limit_ms)
  co = coroutine.create(function()
    steps()
    M.results.total_ms = M.now_ms()
  end)
  api.nvim_create_autocmd('VimEnter', {
    once = true,
    callback = function()
      vim.schedule(resume)
    end,
  })
  -- A hard stop so a hung scenario never blocks the test runner.
  vim.defer_fn(function()
    M.finish(('scenario did not finish within %d s'):format(limit_ms / 1000))
  end, limit_ms)
end

return M
