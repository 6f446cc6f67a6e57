local controller = require('codestral.controller')

describe('controller.texts', function()
  it('takes plain items', function()
    eq({ 'abc' }, controller.texts({ items = { { insertText = 'abc' } } }, 'x', 0, 1, 'utf-16'))
  end)

  it('accepts a bare item array and drops empty items', function()
    eq({ 'a' }, controller.texts({ { insertText = 'a' }, { insertText = '' } }, '', 0, 0, 'utf-8'))
  end)

  it('keeps an item whose range is the cursor', function()
    local result = {
      items = {
        {
          insertText = 'b + 1',
          range = { start = { line = 2, character = 4 }, ['end'] = { line = 2, character = 4 } },
        },
      },
    }
    eq({ 'b + 1' }, controller.texts(result, 'x = ', 2, 4, 'utf-16'))
  end)

  it('drops the typed part of an item whose range starts before the cursor', function()
    local result = { items = { { insertText = 'return x', range = { start = { line = 0, character = 4 } } } } }
    eq({ 'urn x' }, controller.texts(result, '    ret', 0, 7, 'utf-16'))
    eq({}, controller.texts(result, '    rex', 0, 7, 'utf-16'))
  end)

  it('converts utf-16 positions to byte columns', function()
    -- 'é' is one UTF-16 unit and two bytes.
    local result = { items = { { insertText = 'é = 1', range = { start = { line = 0, character = 0 } } } } }
    eq({ ' = 1' }, controller.texts(result, 'é', 0, 2, 'utf-16'))
  end)

  it('ignores items on another line', function()
    local result = { items = { { insertText = 'z', range = { start = { line = 5, character = 0 } } } } }
    eq({}, controller.texts(result, '', 0, 0, 'utf-8'))
  end)

  it('reads snippet-shaped insert texts', function()
    eq({ 'v' }, controller.texts({ items = { { insertText = { kind = 'snippet', value = 'v' } } } }, '', 0, 0, 'utf-8'))
  end)
end)

describe('lsp.eligible', function()
  local lsp = require('codestral.lsp')
  local opts = assert(require('codestral.config').resolve({ max_file_bytes = 10 }))

  it('takes a real file and refuses nameless, help, terminal-like and large buffers', function()
    local dir = vim.fn.tempname()
    vim.fn.mkdir(dir, 'p')
    local small, big = dir .. '/a.py', dir .. '/big.py'
    vim.fn.writefile({ 'x = 1' }, small)
    vim.fn.writefile({ string.rep('x', 100) }, big)
    vim.cmd('edit ' .. small)
    eq(true, lsp.eligible(vim.api.nvim_get_current_buf(), opts), 'small file')
    vim.cmd('edit ' .. big)
    eq(false, lsp.eligible(vim.api.nvim_get_current_buf(), opts), 'large file')
    local nameless = scratch({ 'x' })
    eq(false, lsp.eligible(nameless, opts), 'no name')
    local help = scratch({ 'x' }, dir .. '/h.txt')
    vim.bo[help].filetype = 'help'
    eq(false, lsp.eligible(help, opts), 'help')
    local nofile = scratch({ 'x' }, dir .. '/n.txt')
    vim.bo[nofile].buftype = 'nofile'
    eq(false, lsp.eligible(nofile, opts), 'nofile')
    local restricted = assert(require('codestral.config').resolve({ filetypes = { 'lua' } }))
    vim.cmd('edit ' .. small)
    eq(false, lsp.eligible(vim.api.nvim_get_current_buf(), restricted), 'filetype not listed')
  end)
end)

describe('controller.attach', function()
  local ghost = require('codestral.ghost')
  controller.opts = controller.opts or assert(require('codestral.config').resolve({}))

  it('clears the ghost text when leaving the buffer', function()
    local buf = scratch({ 'x = ' }, vim.fn.tempname() .. '.py')
    controller.attach(buf)
    ghost.show(buf, 0, 4, { '1' })
    truthy(ghost.visible(buf))
    vim.cmd('enew')
    eq(false, ghost.visible(buf))
  end)

  it('clears the ghost text when the buffer is wiped out and forgets the buffer', function()
    local buf = scratch({ 'x = ' }, vim.fn.tempname() .. '.py')
    controller.attach(buf)
    truthy(controller.bufs[buf])
    vim.cmd('bwipeout! ' .. buf)
    eq(nil, controller.bufs[buf])
    eq(nil, ghost.get(buf))
  end)
end)
