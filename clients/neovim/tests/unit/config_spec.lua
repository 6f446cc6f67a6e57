local config = require('codestral.config')

describe('config.resolve', function()
  it('gives the documented defaults for an empty table', function()
    local opts = assert(config.resolve({}))
    eq({ 'codestral-ls' }, opts.cmd)
    eq('auto', opts.mode)
    eq('<Tab>', opts.keys.accept)
    eq(false, opts.show_with_menu)
    eq(1024 * 1024, opts.max_file_bytes)
    eq({}, opts.settings)
  end)

  it('accepts a command as one string', function()
    eq({ '/opt/bin/codestral-ls' }, assert(config.resolve({ cmd = '/opt/bin/codestral-ls' })).cmd)
  end)

  it('replaces lists instead of merging them', function()
    local opts = assert(config.resolve({ exclude_filetypes = { 'markdown' } }))
    eq({ 'markdown' }, opts.exclude_filetypes)
  end)

  it('merges keys and allows disabling one', function()
    local opts = assert(config.resolve({ keys = { accept = '<C-l>', dismiss = false } }))
    eq('<C-l>', opts.keys.accept)
    eq(false, opts.keys.dismiss)
    eq('<M-Right>', opts.keys.accept_word)
  end)

  it('names an unknown option', function()
    local opts, err = config.resolve({ debounce = 10 })
    eq(nil, opts)
    truthy(err:find('"debounce"', 1, true), err)
  end)

  it('names an unknown server setting', function()
    local _, err = config.resolve({ settings = { max_token = 24 } })
    truthy(err:find('"max_token"', 1, true), err)
  end)

  it('rejects a wrong mode and a wrong key type', function()
    eq(nil, (config.resolve({ mode = 'ghost' })))
    eq(nil, (config.resolve({ keys = { accept = 1 } })))
    eq(nil, (config.resolve({ keys = { accept_all = '<Tab>' } })))
  end)

  it('accepts every server key listed in HELPERS/config.py', function()
    local settings = {}
    for _, key in ipairs(config.server_keys) do
      settings[key] = 1
    end
    eq(nil, config.check_settings(settings))
  end)
end)

describe('config.command', function()
  it('adds --log-file when set', function()
    local opts = assert(config.resolve({ log_file = '/tmp/ls.log' }))
    eq({ 'codestral-ls', '--log-file', '/tmp/ls.log' }, config.command(opts))
  end)
end)

describe('config.payload', function()
  it('nests settings under "codestral" and encodes empty settings as an object', function()
    eq('{"codestral":{}}', vim.json.encode(config.payload({})))
    eq({ codestral = { max_tokens = 24 } }, config.payload({ max_tokens = 24 }))
  end)
end)
