-- codestral/didFocus against the in-process stand-in server (tests/e2e/fake_server.lua): what
-- reaches the server when the cursor rests, and what does not.
local config = require('codestral.config')
local controller = require('codestral.controller')
local focus = require('codestral.focus')
local lsp = require('codestral.lsp')
local api = vim.api

local fake = dofile(api.nvim_get_runtime_file('tests/e2e/fake_server.lua', false)[1])
fake.encoding = 'utf-16'
local dir = vim.fn.tempname()
vim.fn.mkdir(dir, 'p')
local statuses = {}

controller.opts = assert(config.resolve({}))
controller.enabled = true
focus.setup_global()
focus.delay_ms = 100

--- A Python file attached to the stand-in server (one client for the whole spec).
local function open(lines)
  local file = dir .. '/f' .. vim.uv.hrtime() .. '.py'
  vim.fn.writefile(lines, file)
  vim.cmd('edit ' .. file)
  local buf = api.nvim_get_current_buf()
  local conf = lsp.client_config(controller.opts, {
    on_attach = function() end,
    on_status = function(before, now)
      table.insert(statuses, { before, now })
    end,
  })
  conf.cmd = fake.cmd
  conf.root_dir = dir
  vim.lsp.start(conf, { bufnr = buf })
  assert(vim.wait(5000, function()
    return lsp.client(buf) ~= nil and fake.state == 'ready'
  end, 10), 'the client did not attach')
  focus.attach(buf)
  return buf
end

--- Move the cursor (1-based row, 0-based byte column) as a user would: CursorMoved follows.
local function move(row, col)
  api.nvim_win_set_cursor(0, { row, col })
  api.nvim_exec_autocmds('CursorMoved', { buffer = api.nvim_get_current_buf() })
end

--- didFocus notifications the server received while `fn` ran and the cursor rested after it.
local function received(fn)
  local before = #fake.focus
  fn()
  vim.wait(focus.delay_ms * 4, function()
    return false
  end, 10)
  local out = {}
  for i = before + 1, #fake.focus do
    local p = fake.focus[i]
    table.insert(out, { vim.fs.basename(vim.uri_to_fname(p.textDocument.uri)), p.position.line, p.position.character })
  end
  return out
end

describe('focus', function()
  local buf, name
  before_each(function()
    controller.opts = assert(config.resolve({}))
    controller.enabled = true
    fake.delay_ms = 80
  end)

  it('tells the server where the cursor rests, once, after the buffer is opened', function()
    local sent = received(function()
      buf = open({ 'def mean(values):', '    ', 'x = "é" + ', '' })
      name = vim.fs.basename(api.nvim_buf_get_name(buf))
    end)
    eq({ { name, 0, 0 } }, sent)
  end)

  it('sends the resting position after a burst of moves, not every position passed', function()
    local sent = received(function()
      move(2, 0)
      move(2, 1)
      move(2, 3)
    end)
    eq({ { name, 1, 3 } }, sent)
  end)

  it('counts the position in the negotiated encoding (UTF-16 here)', function()
    -- 'x = "é" + ': the byte column 10 is UTF-16 character 9.
    eq({ { name, 2, 9 } }, received(function()
      move(3, 10)
    end))
  end)

  it('never repeats a (changedtick, line, column) the server was told about', function()
    local sent = received(function()
      move(2, 3) -- told before
      move(1, 4)
      vim.wait(200, function()
        return false
      end, 10)
      move(2, 3)
      api.nvim_exec_autocmds('CursorHold', { buffer = buf })
      move(1, 4)
    end)
    eq({ { name, 0, 4 } }, sent)
  end)

  it('tells again about a position once the text changed', function()
    local sent = received(function()
      api.nvim_buf_set_lines(buf, 3, 4, false, { 'y = 1' })
      move(1, 4)
    end)
    eq({ { name, 0, 4 } }, sent)
  end)

  it('sends at CursorHold without waiting', function()
    api.nvim_win_set_cursor(0, { 4, 2 })
    api.nvim_exec_autocmds('CursorHold', { buffer = buf })
    eq(true, vim.wait(50, function()
      return fake.focus[#fake.focus].position.character == 2
    end, 5), 'didFocus at CursorHold')
  end)

  it('sends nothing right after text typed in insert mode (the request that follows says it)', function()
    local sent = received(function()
      api.nvim_buf_set_text(buf, 1, 4, 1, 4, { 'r' })
      api.nvim_win_set_cursor(0, { 2, 5 })
      api.nvim_exec_autocmds('TextChangedI', { buffer = buf })
      api.nvim_exec_autocmds('CursorMovedI', { buffer = buf })
    end)
    eq({}, sent)
  end)

  it('sends nothing while a completion request for the buffer is in flight', function()
    fake.delay_ms = 2000
    local client = assert(lsp.client(buf))
    api.nvim_win_set_cursor(0, { 1, 2 })
    local id = lsp.inline_request(client, buf, 1, function() end)
    truthy(id, 'request sent')
    local sent = received(function()
      api.nvim_exec_autocmds('CursorMoved', { buffer = buf })
    end)
    lsp.cancel(client, id)
    eq({}, sent)
    -- The request stood for this position: no didFocus for it afterwards either.
    eq({}, received(function()
      api.nvim_exec_autocmds('CursorHold', { buffer = buf })
    end))
  end)

  it('sends nothing with focus = false, or while suggestions are disabled', function()
    controller.opts = assert(config.resolve({ focus = false }))
    eq({}, received(function()
      move(1, 1)
    end))
    controller.opts = assert(config.resolve({}))
    controller.enabled = false
    eq({}, received(function()
      move(1, 2)
    end))
  end)

  it('tells the server again after it finished loading', function()
    move(1, 3)
    vim.wait(focus.delay_ms * 3, function()
      return false
    end, 10)
    eq({ name, 0, 3 }, (function()
      local p = fake.focus[#fake.focus]
      return { vim.fs.basename(vim.uri_to_fname(p.textDocument.uri)), p.position.line, p.position.character }
    end)())
    local sent = received(function()
      focus.forget()
      focus.on_ready()
    end)
    eq({ { name, 0, 3 } }, sent)
  end)
end)

describe('lsp status hook', function()
  it('reports the state before and after each codestral/status', function()
    eq({ nil, 'loading' }, statuses[1])
    eq({ 'loading', 'ready' }, statuses[2])
  end)
end)

describe('config', function()
  it('has focus on by default and checks its type', function()
    eq(true, assert(config.resolve({})).focus)
    eq(false, assert(config.resolve({ focus = false })).focus)
    local opts, err = config.resolve({ focus = 'yes' })
    eq(nil, opts)
    eq('codestral: option "focus" must be true or false', err)
  end)
end)

for _, client in ipairs(lsp.clients()) do
  client:stop(true)
end
