-- The keys run in a real insert mode through feedkeys(..., 'x').
local ghost = require('codestral.ghost')
local api = vim.api

local function lines(buf)
  return api.nvim_buf_get_lines(buf, 0, -1, false)
end

describe('keys', function()
  -- A user mapping made before setup() must keep working when no suggestion is shown.
  vim.keymap.set('i', '<C-]>', 'DISMISSED', { desc = 'user map' })
  vim.keymap.set('i', '<M-\\>', 'USER', { desc = 'user trigger' })
  local warnings = {}
  local orig = vim.notify
  vim.notify = function(msg, level)
    table.insert(warnings, { msg, level })
  end
  require('codestral').setup({ cmd = { 'codestral-ls-not-installed' } })
  vim.notify = orig

  it('Tab falls through to a plain Tab without a suggestion', function()
    local buf = scratch({ 'x' })
    vim.bo[buf].expandtab = false
    api.nvim_feedkeys(api.nvim_replace_termcodes('A<Tab>y<Esc>', true, true, true), 'xt', false)
    eq({ 'x\ty' }, lines(buf))
  end)

  it('Tab accepts a shown suggestion', function()
    local buf = scratch({ 'x = ' })
    -- Enter insert mode at the end, draw a suggestion there, then press Tab.
    vim.keymap.set('i', '<F2>', function()
      local c = api.nvim_win_get_cursor(0)
      ghost.show(buf, c[1] - 1, c[2], { '42\nprint(x)' })
    end)
    vim.keymap.set('i', '<F3>', function()
      vim.b[buf].cursor = api.nvim_win_get_cursor(0)
    end)
    api.nvim_feedkeys(api.nvim_replace_termcodes('A<F2><Tab><F3><Esc>', true, true, true), 'xt', false)
    eq({ 'x = 42', 'print(x)' }, lines(buf))
    eq({ 2, 8 }, vim.b[buf].cursor, 'cursor after the insertion (insert mode)')
  end)

  it('accept word and accept line insert parts and keep the rest', function()
    local buf = scratch({ 'x = ' })
    vim.keymap.set('i', '<F2>', function()
      local c = api.nvim_win_get_cursor(0)
      ghost.show(buf, c[1] - 1, c[2], { 'add(1, 2)\nprint(x)' })
    end)
    api.nvim_feedkeys(api.nvim_replace_termcodes('A<F2><M-Right><Esc>', true, true, true), 'xt', false)
    eq({ 'x = add' }, lines(buf))
    api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = ' })
    api.nvim_feedkeys(
      api.nvim_replace_termcodes('A<F2><M-C-Right><M-Right><Esc>', true, true, true), 'xt', false)
    eq({ 'x = add(1, 2)', 'print' }, lines(buf))
  end)

  it('dismiss hides the suggestion; without one the user mapping runs', function()
    local buf = scratch({ 'x = ' })
    vim.keymap.set('i', '<F2>', function()
      local c = api.nvim_win_get_cursor(0)
      ghost.show(buf, c[1] - 1, c[2], { '1' })
    end)
    vim.keymap.set('i', '<F3>', function()
      vim.b[buf].seen = ghost.visible(buf)
    end)
    api.nvim_feedkeys(api.nvim_replace_termcodes('A<F2><C-]><F3><Esc>', true, true, true), 'xt', false)
    eq(false, vim.b[buf].seen)
    eq({ 'x = ' }, lines(buf))
    api.nvim_feedkeys(api.nvim_replace_termcodes('A<C-]><Esc>', true, true, true), 'xt', false)
    eq({ 'x = DISMISSED' }, lines(buf))
  end)

  it('says once that the server command is missing', function()
    local said = 0
    for _, w in ipairs(warnings) do
      if w[1]:find('codestral-ls-not-installed', 1, true) and w[2] == vim.log.levels.ERROR then
        said = said + 1
      end
    end
    eq(1, said)
  end)

  it('leaves an existing trigger mapping alone and says so', function()
    eq('USER', vim.fn.maparg('<M-\\>', 'i'))
    local said = false
    for _, w in ipairs(warnings) do
      said = said or (w[1]:find('<M-\\>', 1, true) ~= nil and w[2] == vim.log.levels.WARN)
    end
    truthy(said, 'warning about <M-\\>')
  end)

  it('Esc clears the ghost text (leaving insert mode)', function()
    local buf = scratch({ 'x' }, vim.fn.tempname() .. '.txt')
    vim.keymap.set('i', '<F2>', function()
      local c = api.nvim_win_get_cursor(0)
      ghost.show(buf, c[1] - 1, c[2], { 'yz' })
    end)
    require('codestral.controller').attach(buf)
    api.nvim_feedkeys(api.nvim_replace_termcodes('A<F2><Esc>', true, true, true), 'xt', false)
    eq(false, ghost.visible(buf))
  end)
end)

describe('keys.global_map', function()
  local keys = require('codestral.keys')
  it('sees through a buffer-local mapping to the global one', function()
    local buf = scratch({ '' })
    vim.keymap.set('i', '<F5>', 'GLOBAL')
    vim.keymap.set('i', '<F5>', 'LOCAL', { buffer = buf })
    eq('GLOBAL', keys.global_map('<F5>').rhs)
    vim.keymap.set('i', '<F6>', 'LOCAL', { buffer = buf })
    eq({}, keys.global_map('<F6>'))
  end)
end)

describe('choose_path', function()
  local plugin = require('codestral')
  it('uses the built-in inline completion on 0.12 unless told otherwise', function()
    local has = vim.lsp.inline_completion ~= nil
    eq(has and 'native' or 'fallback', plugin.choose_path('auto'))
    eq('fallback', plugin.choose_path('fallback'))
  end)
end)
