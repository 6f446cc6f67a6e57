-- luacheck configuration (luacheck lua plugin tests)
std = 'luajit'
globals = { 'vim' }
max_line_length = 120
files['tests'] = {
  globals = { 'describe', 'it', 'before_each', 'eq', 'truthy', 'scratch', 'arg' },
}
